// The registry of NodeState's parts: every output iterates this list. Adding a part is its file
// beside this one and one line here (docs/architecture.md, "Adding a fact").
import { agentPart } from "./agent";
import type { PartDefinition } from "./fact";
import { firewallPart } from "./firewall";
import { hostPart } from "./host";
import { ipv6Part } from "./ipv6";
import { servicesPart } from "./services";
import { tailnetPart } from "./tailnet";
import { tailnetPolicyPart } from "./tailnet-policy";

export const PARTS: readonly PartDefinition[] = [agentPart, hostPart, ipv6Part, tailnetPart, tailnetPolicyPart, servicesPart, firewallPart];
