// Whether the agent's AgentX objects can actually be read through snmpd: one GET of
// edgeAgentVersion.0 with the configured community or v3 user (what the scraper's poll asks), and
// what the running daemon's textfile says about its registration, so a missing object can be told
// apart as "not registered" or "hidden by snmpd's view".
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import snmp, { type Varbind } from "net-snmp";
import type { Config } from "../../config";
import { errorText } from "../../probes/deadline";
import { snmpdGet } from "../../probes/snmpd";
import { TEXTFILE_NAME } from "../../daemon/textfile";

export type ObjectRead =
  | { state: "value"; value: string }
  /** snmpd answered noSuchObject/noSuchInstance: nobody registered it, or the view hides it. */
  | { state: "absent" }
  | { state: "unanswered"; error: string };

/** GET of one object through snmpd at probes.snmpd's host and port, as the scraper's poll would ask. */
export async function readThroughSnmpd(cfg: Config["probes"]["snmpd"], oid: string, timeoutMs: number): Promise<ObjectRead> {
  let vb: Varbind;
  try {
    [vb] = await snmpdGet(cfg.host, cfg, [oid], timeoutMs);
  } catch (error) {
    return { state: "unanswered", error: errorText(error) };
  }
  if (vb.type === snmp.ObjectType.NoSuchObject || vb.type === snmp.ObjectType.NoSuchInstance) return { state: "absent" };
  if (snmp.isVarbindError(vb)) return { state: "unanswered", error: snmp.varbindError(vb) };
  return { state: "value", value: Buffer.isBuffer(vb.value) ? vb.value.toString("utf8") : String(vb.value) };
}

/** What the daemon last wrote about AgentX in its textfile; null when there is no such file. */
export interface DaemonRegistration {
  /** edge_agent_agentx_registered: null when the series is absent (AgentX disabled in its config). */
  registered: boolean | null;
}

/** Pure: the registration series from the textfile's text. */
export function parseRegistration(text: string): DaemonRegistration {
  const match = /^edge_agent_agentx_registered (\S+)$/m.exec(text);
  return { registered: match ? Number(match[1]) === 1 : null };
}

export async function readDaemonRegistration(textfileDir: string): Promise<DaemonRegistration | null> {
  try {
    return parseRegistration(await readFile(join(textfileDir, TEXTFILE_NAME), "utf8"));
  } catch {
    return null;
  }
}
