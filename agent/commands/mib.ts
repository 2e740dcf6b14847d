// `edge-agent mib [--base-oid OID]`: prints EDGE-AGENT-MIB for the default root or a re-rooted one.
import { UsageError } from "../cli";
import { BaseOidError, renderMib } from "../snmp/mib";

export async function mibCommand(values: { "base-oid"?: unknown }): Promise<number> {
  const base = values["base-oid"] as string | undefined;
  let text: string;
  try {
    text = renderMib(base);
  } catch (error) {
    if (error instanceof BaseOidError) throw new UsageError(`--base-oid: ${error.message}`);
    throw error;
  }
  process.stdout.write(text);
  return 0;
}
