// The policy entry that admits one monitoring flow, written in `acls` or `grants` syntax: what
// `policy check` tells a person to add, and what a live verdict of drop can point to.
import type { Flow } from "./flows";

export function policyEntryFor(flow: Flow, srcTag: string, dstTag: string, style: "acls" | "grants"): string {
  const proto = flow.proto === 6 ? "tcp" : "udp";
  return style === "acls"
    ? `{"action": "accept", "src": ["${srcTag}"], "dst": ["${dstTag}:${flow.port}"], "proto": "${proto}"}`
    : `{"src": ["${srcTag}"], "dst": ["${dstTag}"], "ip": ["${proto}:${flow.port}"]}`;
}
