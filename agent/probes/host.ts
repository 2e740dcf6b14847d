// The host's name, OS, kernel and hardware model (systeminformation; a Raspberry Pi shows as one).
import { hostname, release, arch } from "node:os";
import si from "systeminformation";
import type { HostInfo } from "../state";

/** Pure: picks the most telling model string; boards report theirs in system.model. */
export function describeModel(system: { manufacturer?: string; model?: string; raspberry?: { type?: string } }): string {
  if (system.raspberry?.type) return `Raspberry Pi ${system.raspberry.type}`;
  const model = (system.model ?? "").trim();
  const maker = (system.manufacturer ?? "").trim();
  if (!model || /^(to be filled|default string|system product name)/i.test(model)) return maker || "unknown";
  return maker && !model.toLowerCase().startsWith(maker.toLowerCase()) ? `${maker} ${model}` : model;
}

export async function probeHost(): Promise<HostInfo> {
  const [os, system] = await Promise.all([
    si.osInfo().catch(() => null),
    si.system().catch(() => null),
  ]);
  return {
    state: "ok",
    hostname: hostname(),
    os: os ? [os.distro, os.release].filter(Boolean).join(" ") || os.platform : process.platform,
    kernel: os?.kernel || release(),
    model: system ? describeModel(system as { manufacturer?: string; model?: string; raspberry?: { type?: string } }) : "unknown",
    arch: arch(),
  };
}
