// A decision as a person reads it, in the spirit of `nft monitor trace`: the packet, each rule
// that matched with its verdict, each policy applied, then the verdict and what decided it.
import type { Decision } from "./evaluate";
import type { PacketSpec } from "./packet";

export function describePacket(p: PacketSpec): string {
  const ip = p.family === "ipv6" ? "ip6" : "ip";
  const parts = [
    p.iif ? `iif "${p.iif}"` : "",
    p.oif ? `oif "${p.oif}"` : "",
    `${ip} saddr ${p.saddr} ${ip} daddr ${p.daddr}`,
    `${p.proto} sport ${p.sport} ${p.proto} dport ${p.dport}`,
    `ct state ${p.ctState ?? "new"}`,
    p.length !== undefined ? `udp payload ${p.length} bytes` : "",
  ];
  return `${p.direction} packet: ${parts.filter(Boolean).join(" ")}`;
}

export function renderTrace(packet: PacketSpec, decision: Decision): string {
  const lines = [`trace ${describePacket(packet)}`];
  for (const s of decision.trace) {
    const where = `${s.family} ${s.table} ${s.chain}${s.source ? ` (${s.source})` : ""}`;
    if (s.handle === null) lines.push(`trace ${where} ${s.rule}`);
    else lines.push(`trace ${where} rule ${s.rule} (${s.result === "unknown" ? "cannot be decided" : `verdict ${s.result}`})${s.source ? "" : ` handle ${s.handle}`}`);
  }
  lines.push(decision.verdict === "unknown" ? `verdict unknown: ${decision.reason}` : `verdict ${decision.verdict}: decided by ${decision.decidedBy}`);
  return `${lines.join("\n")}\n`;
}
