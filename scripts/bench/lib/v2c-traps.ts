// EDGE-AGENT-MIB notifications for the receiver benchmarks: the objects a node sends, one v2c
// trap encoded by net-snmp as the agent sends it (captured from the wire, with where its sequence
// number and node name sit), and the sender process (trap-sender.ts) that sends copies of it.
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { join, resolve } from "node:path";
import snmp from "net-snmp";
import type { EventKind } from "../../../agent/diff";
import { oidTree } from "../../../agent/snmp/oid-tree";
import type { ObjectValues } from "../../../agent/snmp/state-objects";
import { nodeValues } from "./node-values";
import { toVarbinds } from "../../../agent/snmp/varbinds";

const ROOT = resolve(__dirname, "../../..");
const tree = oidTree();

/** The node name in a template: the sender writes six digits after the "n". */
export const TEMPLATE_NODE = "n000000";
/** A 4-byte sequence number (so its encoding has a fixed length) the template is built with. */
const TEMPLATE_SEQUENCE = 0x01020304;

export interface Template {
  bytes: Buffer;
  /** Where the 4-byte sequence number is. */
  seqOffset: number;
  /** Where the six digits of the node name are (in the host name and the tailnet name). */
  nameOffsets: number[];
}

/** One encoded v2c trap from TEMPLATE_NODE, as net-snmp sends it, captured from the wire. */
export async function v2cTemplate(community: string, event: EventKind = "heartbeat", overrides: Partial<ObjectValues> = {}, at = new Date()): Promise<Template> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  const got = new Promise<Buffer>((r) => s.once("message", (m) => r(m)));
  const session = snmp.createSession("127.0.0.1", community, { version: snmp.Version2c, trapPort: s.address().port });
  session.trap(tree.notificationOid(event), toVarbinds(tree, nodeValues(TEMPLATE_NODE, TEMPLATE_SEQUENCE, at, overrides)), () => session.close());
  const bytes = await got;
  s.close();
  // A Gauge32/Unsigned32 (0x42) of length 4 holding the template's sequence number.
  const seqOffset = bytes.indexOf(Buffer.from([0x42, 0x04, 0x01, 0x02, 0x03, 0x04])) + 2;
  if (seqOffset < 2) throw new Error("cannot find the sequence number in the encoded template");
  const nameOffsets: number[] = [];
  for (let i = bytes.indexOf(TEMPLATE_NODE); i >= 0; i = bytes.indexOf(TEMPLATE_NODE, i + 1)) nameOffsets.push(i + 1);
  if (nameOffsets.length === 0) throw new Error("cannot find the node name in the encoded template");
  return { bytes, seqOffset, nameOffsets };
}

export interface SendOptions {
  /** Each datagram gets node name i % nodes (0: the template's name in every one). */
  nodes?: number;
  /** The sequence number of datagram 0 (datagram i gets firstSequence + i). */
  firstSequence?: number;
}

export interface Sent {
  sent: number;
  seconds: number;
}

/**
 * Runs trap-sender.ts, its own process so it does not share the receiver's core's event loop:
 * `count` datagrams at `rate` per second. `what` is a template, or "@FILE" of prebuilt datagrams.
 */
export function sendTraps(port: number, rate: number, count: number, what: Template | string, options: SendOptions = {}): Promise<Sent> {
  const [hex, seqOffset, nameOffsets] = typeof what === "string" ? [what, 0, [] as number[]] : [what.bytes.toString("hex"), what.seqOffset, what.nameOffsets];
  const argv = [String(port), String(rate), String(count), hex, String(seqOffset), nameOffsets.join(","), String(options.nodes ?? 0), String(options.firstSequence ?? "")];
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(__dirname, "trap-sender.ts"), ...argv], { stdio: ["ignore", "pipe", "inherit"], cwd: ROOT });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => (code === 0 ? res(JSON.parse(out.trim().split("\n").pop() ?? "{}") as Sent) : rej(new Error(`sender exited ${code}`))));
  });
}
