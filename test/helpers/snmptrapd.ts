// Debian's real snmptrapd on a free loopback port (IPv4 and IPv6) with EDGE-AGENT-MIB loaded,
// logging one line per notification that tests parse into { name: value }.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freeUdpPort, waitFor } from "./ports";
import { startDaemon, type Daemon } from "./process";
import { BASE_MIB_DIR, netSnmpEnv } from "./snmpd";

export const PROJECT_MIB_DIR = resolve(__dirname, "../../packaging/mibs");

export interface TrapdUser {
  name: string;
  /** Net-SNMP spelling: SHA, SHA-256, SHA-512, ... */
  auth: string;
  authKey: string;
  /** AES, AES-256, ... */
  priv: string;
  privKey: string;
  /** For v3 traps: the sender's engine ID (hex); informs use snmptrapd's own engine. */
  engineId?: string;
}

export interface TrapdOptions {
  community?: string;
  users?: TrapdUser[];
  port?: number;
  /** Directory holding EDGE-AGENT-MIB (a re-rooted one, say). */
  mibDir?: string;
  /** Run inside this network namespace (its own loopback). */
  netns?: string;
}

export interface ReceivedNotification {
  /** Transport line, e.g. UDP: [127.0.0.1]:40000->[127.0.0.1]:162 */
  transport: string;
  /** Security line: e.g. TRAP2, SNMP v2c, community edgetest / INFORM, SNMP v3, user ... */
  security: string;
  /** snmpTrapOID.0's value by name, e.g. EDGE-AGENT-MIB::edgeAgentTest */
  name: string;
  /** Varbind values by name without module and instance, e.g. edgeAgentHostName -> "STRING: x" */
  values: Record<string, string>;
}

export interface Snmptrapd extends Daemon {
  port: number;
  dir: string;
  received: () => ReceivedNotification[];
}

const SEPARATOR = "\u00a7";

export function parseTrapdLog(text: string): ReceivedNotification[] {
  const out: ReceivedNotification[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("NOTIFY" + SEPARATOR)) continue;
    const [, transport, security, varbinds] = line.split(SEPARATOR);
    const values: Record<string, string> = {};
    let name = "";
    for (const vb of (varbinds ?? "").split("\t")) {
      const eq = vb.indexOf(" = ");
      if (eq < 0) continue;
      const key = vb.slice(0, eq);
      const value = vb.slice(eq + 3);
      if (/snmpTrapOID\.0$/.test(key)) name = value.replace(/^OID: /, "");
      values[key.replace(/^.*::/, "").replace(/\.0$/, "")] = value;
    }
    out.push({ transport, security, name, values });
  }
  return out;
}

export async function startSnmptrapd(options: TrapdOptions = {}): Promise<Snmptrapd> {
  const dir = mkdtempSync(join(tmpdir(), "ea-trapd-"));
  const port = options.port ?? (await freeUdpPort());
  const community = options.community ?? "edgetest";
  const conf = [`authCommunity log ${community}`];
  for (const u of options.users ?? []) {
    conf.push(`createUser ${u.engineId ? `-e 0x${u.engineId} ` : ""}${u.name} ${u.auth} ${u.authKey} ${u.priv} ${u.privKey}`);
    conf.push(`authUser log ${u.name} priv`);
  }
  writeFileSync(join(dir, "snmptrapd.conf"), conf.join("\n") + "\n");
  const log = join(dir, "traps.log");
  const mibDirs = [BASE_MIB_DIR, options.mibDir ?? PROJECT_MIB_DIR].join(":");
  const format = ["NOTIFY", "%b", "%P", "%v"].join(SEPARATOR) + "\\n";
  const command = options.netns ? ["ip", "netns", "exec", options.netns, "snmptrapd"] : ["snmptrapd"];
  const daemon = startDaemon(
    command[0],
    [...command.slice(1), "-f", "-C", "-c", join(dir, "snmptrapd.conf"), "-Lf", log, "-F", format, "-M", mibDirs, "-m", "SNMPv2-MIB:EDGE-AGENT-MIB", "-p", join(dir, "snmptrapd.pid"), `udp:127.0.0.1:${port}`, `udp6:[::1]:${port}`],
    { env: { ...netSnmpEnv(), SNMP_PERSISTENT_DIR: join(dir, "persist") } },
  );
  const read = () => (existsSync(log) ? readFileSync(log, "utf8") : "");
  await waitFor(`snmptrapd on port ${port}`, () => /NET-SNMP version/.test(read()), 10_000, 50).catch((error) => {
    throw new Error(`${(error as Error).message}\nsnmptrapd output:\n${daemon.output()}\nlog:\n${read()}`);
  });
  return {
    ...daemon,
    port,
    dir,
    received: () => parseTrapdLog(read()),
    output: () => `${daemon.output()}\n--- log ---\n${read()}`,
    stop: async () => {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
