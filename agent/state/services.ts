// The `services` part of NodeState: whether node-exporter and snmpd answer, locally and on the
// host's Tailscale IP (where the scraper polls them).

/**
 * Why a service does not answer. tls: node-exporter's certificate was refused or the CA file could
 * not be read (the probe's TLS settings are the fix); http-status: it answered with an HTTP error;
 * not-node-exporter: it answered, but not with node-exporter's metrics; not-listening: nothing
 * listens on the port; no-answer: no answer within the timeout, or the connection failed;
 * access-denied: snmpd answered but refused the user, key or community.
 */
export const SERVICE_FAILURES = ["tls", "http-status", "not-node-exporter", "not-listening", "no-answer", "access-denied", "timeout", "probe-error"] as const;
export type ServiceFailure = (typeof SERVICE_FAILURES)[number];

export interface NodeExporterState {
  url: string;
  up: boolean;
  version: string | null;
  /** Answers on the host's Tailscale IP too; null when there is no Tailscale IP to try. */
  tailnetReachable: boolean | null;
  /** Why it is down, when it is. */
  code?: ServiceFailure;
  error?: string;
  tailnetError?: string;
}

export interface SnmpdState {
  target: string;
  up: boolean;
  sysDescr: string | null;
  sysUpTimeSeconds: number | null;
  tailnetReachable: boolean | null;
  code?: ServiceFailure;
  error?: string;
  tailnetError?: string;
}

export interface ServicesState {
  nodeExporter: NodeExporterState;
  snmpd: SnmpdState;
}
