// The `host` part of NodeState: what the machine is (name, OS, kernel, model).
import { PROBE_FAILURES, type Unavailable } from "./unavailable";

export interface HostInfo {
  state: "ok";
  hostname: string;
  os: string;
  kernel: string;
  model: string;
  arch: string;
}

export const HOST_FAILURES = [...PROBE_FAILURES] as const;
export type HostFailure = (typeof HOST_FAILURES)[number];

export type HostPart = HostInfo | Unavailable<HostFailure>;
