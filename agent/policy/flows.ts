// The three monitoring flows the tailnet must admit, shared by the offline policy check and the
// live packet-filter verdicts: which side opens them, with which protocol and port.

export type FlowId = "scrape-node-exporter" | "poll-snmpd" | "notify-scraper";

export interface Flow {
  id: FlowId;
  /** IANA protocol number (6 tcp, 17 udp). */
  proto: 6 | 17;
  port: number;
  /** The side that opens the flow; the other side's packet filter decides it. */
  from: "scraper" | "node";
  to: "scraper" | "node";
  /** What breaks when it is refused. */
  purpose: string;
}

export const FLOWS: readonly Flow[] = [
  { id: "scrape-node-exporter", proto: 6, port: 9100, from: "scraper", to: "node", purpose: "Prometheus scrapes node-exporter (and the agent's textfile metrics)" },
  { id: "poll-snmpd", proto: 17, port: 161, from: "scraper", to: "node", purpose: "the scraper polls snmpd (and the agent's AgentX objects)" },
  { id: "notify-scraper", proto: 17, port: 162, from: "node", to: "scraper", purpose: "the agent's SNMP notifications reach the receiver" },
];

export function flowById(id: FlowId): Flow {
  return FLOWS.find((f) => f.id === id)!;
}

export function flowLabel(flow: Flow): string {
  return `${flow.proto === 6 ? "tcp" : "udp"}/${flow.port}`;
}
