// Prefix membership for the lab topology test (ipaddr.js, as the agent uses).
import ipaddr from "ipaddr.js";

export function isInPrefix(address: string, prefix: string): boolean {
  const addr = ipaddr.parse(address);
  const [net, len] = ipaddr.parseCIDR(prefix);
  return addr.kind() === net.kind() && addr.match([net, len]);
}
