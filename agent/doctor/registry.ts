// Every doctor check, in the order the output lists them. Ids are a public contract.
import type { Check } from "./check";
import { ipv4NatCheck, ipv6PrefixCheck } from "./checks/addresses";
import { configCheck } from "./checks/config";
import { firewallPortCheck } from "./checks/firewall";
import { agentxCheck, notificationCheck, textfileDirCheck } from "./checks/outputs";
import { receiverConfigCheck, receiverFileSdCheck, receiverListenCheck, receiverNotifyPolicyCheck } from "./checks/receiver";
import { nodeExporterCheck, snmpdCheck } from "./checks/services";
import { magicDnsCheck, scraperPathCheck, tagsCheck, tailscaledCheck } from "./checks/tailnet";
import { tailnetPolicyCheck } from "./checks/tailnet-policy";

export const CHECKS: readonly Check[] = [
  configCheck,
  ipv6PrefixCheck,
  ipv4NatCheck,
  tailscaledCheck,
  tagsCheck,
  magicDnsCheck,
  scraperPathCheck,
  tailnetPolicyCheck,
  firewallPortCheck,
  nodeExporterCheck,
  snmpdCheck,
  textfileDirCheck,
  agentxCheck,
  notificationCheck,
  receiverListenCheck,
  receiverConfigCheck,
  receiverFileSdCheck,
  receiverNotifyPolicyCheck,
];

export const CHECK_IDS: readonly string[] = CHECKS.map((c) => c.id);

/** The checks named by --check, in registry order; unknown ids are returned for the usage error. */
export function selectChecks(ids: string[]): { checks: Check[]; unknown: string[] } {
  if (ids.length === 0) return { checks: [...CHECKS], unknown: [] };
  const unknown = ids.filter((id) => !CHECK_IDS.includes(id));
  return { checks: CHECKS.filter((c) => ids.includes(c.id)), unknown };
}
