// Shared by the receiver's integration tests: an in-process receiver on free ports with its log
// captured, EDGE-AGENT-MIB notifications as a sender would build them, and Net-SNMP's snmptrap.
import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import snmp from "net-snmp";
import { configFromObject } from "../../agent/config";
import { TrapReceiver, type ReceiverOptions } from "../../agent/receiver/receiver";
import { oidTree } from "../../agent/snmp/oid-tree";
import type { ObjectValues } from "../../agent/snmp/state-objects";
import { toVarbinds } from "../../agent/snmp/varbinds";
import { freeTcpPort, freeUdpPort } from "../helpers/ports";
import { netSnmpEnv } from "../helpers/snmpd";

export const tree = oidTree();
export const COMMUNITY = "edge-comm-1";
export const V3_USER = { name: "edgetrap", authProtocol: "sha256", authKey: "auth-secret-1", privProtocol: "aes", privKey: "priv-secret-1" };

export interface TestReceiver {
  receiver: TrapReceiver;
  port: number;
  metricsUrl: string;
  dir: string;
  logs: Record<string, any>[];
  stop: () => Promise<void>;
}

export async function startTestReceiver(receiverConfig: Record<string, unknown> = {}, extra: Omit<Partial<ReceiverOptions>, "config"> & { raw?: Record<string, unknown> } = {}): Promise<TestReceiver> {
  const dir = mkdtempSync(join(tmpdir(), "ea-receiver-"));
  const port = await freeUdpPort();
  const metricsPort = await freeTcpPort();
  const config = configFromObject(
    {
      ...(extra.raw ?? {}),
      receiver: {
        listen: [`udp:127.0.0.1:${port}`, `udp6:[::1]:${port}`],
        communities: [COMMUNITY],
        users: [V3_USER],
        metrics: `127.0.0.1:${metricsPort}`,
        fileSd: join(dir, "file_sd", "edge-agent.yml"),
        state: join(dir, "fleet.json"),
        ...receiverConfig,
      },
    },
    null,
  );
  const logs: Record<string, any>[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const { raw: _raw, ...options } = extra;
  let receiver: TrapReceiver;
  try {
    receiver = await TrapReceiver.start({ config, log, tickMs: 100, ...options });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    receiver,
    port,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    dir,
    logs,
    stop: async () => {
      await receiver.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every object a sender puts in a notification, for one node. */
export function edgeValues(node: string, sequence: number, overrides: ObjectValues = {}, at = new Date()): ObjectValues {
  return {
    edgeAgentHostName: node,
    edgeAgentTailnetName: `${node}.example-tailnet.ts.net`,
    edgeAgentTailnetTags: "tag:monitor",
    edgeAgentTailnetAddresses: "127.0.0.1,::1",
    edgeAgentTailnetState: "Running",
    edgeAgentPrimaryPrefix: "2001:db8:100:1::/64",
    edgeAgentPrefixInAllocation: "inside",
    edgeAgentScraperPath: "direct",
    edgeAgentScraperFamily: "ipv6",
    edgeAgentScraperEndpoint: "[2001:db8:200:1::1]:41641",
    edgeAgentNodeExporterUp: true,
    edgeAgentSnmpdUp: true,
    edgeAgentFirewallPort: 41641,
    edgeAgentFirewallInboundIpv6: "accept",
    edgeAgentFirewallInboundIpv4: "accept",
    edgeAgentFirewallOutboundIpv6: "accept",
    edgeAgentFirewallOutboundIpv4: "accept",
    edgeAgentFirewallForwardIpv6: "unknown",
    edgeAgentVersion: "0.1.0",
    edgeAgentNotificationSequence: sequence,
    edgeAgentEventTime: at.toISOString(),
    edgeAgentEventSummary: `test event ${sequence}`,
    edgeAgentEventService: "none",
    ...overrides,
  };
}

/** snmptrap's OID TYPE VALUE triples for the objects (octets in hex, so any byte goes through). */
export function snmptrapVarbindArgs(values: ObjectValues): string[] {
  const args: string[] = [];
  for (const vb of toVarbinds(tree, values)) {
    if (vb.type === snmp.ObjectType.OctetString) args.push(vb.oid, "x", (vb.value as Buffer).toString("hex") || "");
    else if (vb.type === snmp.ObjectType.Integer) args.push(vb.oid, "i", String(vb.value));
    else if (vb.type === snmp.ObjectType.Gauge) args.push(vb.oid, "u", String(vb.value));
    else throw new Error(`no snmptrap type for ${vb.type}`);
  }
  return args;
}

export function snmptrap(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile("snmptrap", args, { env: netSnmpEnv(), timeout: 20_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stderr: String(stderr) });
    });
  });
}

export async function metricsText(url: string): Promise<string> {
  const res = await fetch(url);
  return res.text();
}

/** The value of one sample line, e.g. sample(text, 'edge_fleet_node_up{node="host1"}'). */
export function sample(text: string, series: string): number | null {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : null;
}

/** The bytes net-snmp puts on the wire for `count` datagrams, captured on a local socket. */
export async function capture(send: (port: number) => void, count: number): Promise<Buffer[]> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const port = socket.address().port;
  const got: Buffer[] = [];
  const done = new Promise<void>((resolve) =>
    socket.on("message", (msg) => {
      got.push(msg);
      if (got.length === count) resolve();
    }),
  );
  send(port);
  await done;
  socket.close();
  return got;
}
