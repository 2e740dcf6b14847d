// Debian's real snmpd on a free loopback port with a config the test writes.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import snmp from "net-snmp";
import { freeUdpPort, waitFor } from "./ports";
import { startDaemon, type Daemon } from "./process";

/** The IETF base MIBs that Debian leaves out; net-snmp (npm) ships them. */
export const BASE_MIB_DIR = resolve(__dirname, "../../node_modules/net-snmp/lib/mibs");

let confDir: string | null = null;

/**
 * A configuration directory for Net-SNMP's tools that turns off their persistent files: every
 * snmpget, snmptrap... otherwise rewrites /var/lib/snmp/snmpapp.conf when it exits, and one that
 * reads it while another writes it prints "buffer too small to read octet string" on stderr
 * (seen when test files ran side by side). The daemons run with -C, which skips this directory.
 */
function quietConfDir(): string {
  if (!confDir) {
    confDir = mkdtempSync(join(tmpdir(), "ea-snmpconf-"));
    writeFileSync(join(confDir, "snmp.conf"), "noPersistentLoad yes\nnoPersistentSave yes\n");
    process.once("exit", () => rmSync(confDir!, { recursive: true, force: true }));
  }
  return confDir;
}

/** Environment for Net-SNMP tools: no noisy default MIB loading, base MIBs from npm, no shared persistent files. */
export function netSnmpEnv(extraMibDirs: string[] = []): NodeJS.ProcessEnv {
  return { ...process.env, MIBS: "", MIBDIRS: [BASE_MIB_DIR, ...extraMibDirs].join(":"), SNMPCONFPATH: quietConfDir() };
}

export interface Snmpd extends Daemon {
  port: number;
  dir: string;
}

export interface SnmpdOptions {
  community?: string;
  /** Extra snmpd.conf lines (agentXSocket, createUser, ...). */
  extra?: string[];
  port?: number;
  listen?: string[];
  /** Run inside this network namespace (readiness is then asked with snmpget from inside it). */
  netns?: string;
}

export async function startSnmpd(options: SnmpdOptions = {}): Promise<Snmpd> {
  const dir = mkdtempSync(join(tmpdir(), "ea-snmpd-"));
  const port = options.port ?? (await freeUdpPort());
  const community = options.community ?? "edgetest";
  const conf = [
    `rocommunity ${community} 127.0.0.1`,
    `rocommunity6 ${community} ::1`,
    "sysDescr edge-agent test snmpd",
    ...(options.extra ?? []),
  ];
  writeFileSync(join(dir, "snmpd.conf"), conf.join("\n") + "\n");
  const listen = options.listen ?? [`udp:127.0.0.1:${port}`, `udp6:[::1]:${port}`];
  const argv = ["snmpd", "-f", "-C", "-c", join(dir, "snmpd.conf"), "-Lo", "-p", join(dir, "snmpd.pid"), ...listen];
  const env = { ...netSnmpEnv(), SNMP_PERSISTENT_DIR: join(dir, "persist") };
  const daemon = options.netns ? startDaemon("ip", ["netns", "exec", options.netns, ...argv], { env }) : startDaemon(argv[0], argv.slice(1), { env });
  const ready = options.netns ? () => snmpgetInNetns(options.netns!, port, community) : () => snmpAnswers(port, community);
  await waitFor(`snmpd on port ${port}`, ready, 10_000, 100).catch((error) => {
    throw new Error(`${(error as Error).message}\nsnmpd output:\n${daemon.output()}`);
  });
  return {
    ...daemon,
    port,
    dir,
    stop: async () => {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function snmpAnswers(port: number, community: string): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const session = snmp.createSession("127.0.0.1", community, { port, retries: 0, timeout: 300, version: snmp.Version2c });
    session.on("error", () => resolveAnswer(false));
    session.get(["1.3.6.1.2.1.1.3.0"], (error: Error | null) => {
      session.close();
      resolveAnswer(!error);
    });
  });
}

function snmpgetInNetns(netns: string, port: number, community: string): boolean {
  try {
    execFileSync("ip", ["netns", "exec", netns, "snmpget", "-v2c", "-c", community, "-t", "0.3", "-r", "0", `udp:127.0.0.1:${port}`, "1.3.6.1.2.1.1.3.0"], { env: netSnmpEnv(), stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
