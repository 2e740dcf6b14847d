// The host's name, OS, kernel and hardware model, read from files the kernel and the distribution
// provide (os-release, the device tree, DMI). No process is spawned: systeminformation's osInfo()
// and system() start about sixteen shells (lsb_release, dmesg, cat...) and took 1.5-4 s on a
// loaded 2-core host, against a budget of 30 ms of CPU per probe cycle.
import { readFile } from "node:fs/promises";
import { arch, hostname, platform, release } from "node:os";
import type { HostInfo } from "../state/node-state";

export interface ModelFacts {
  /** /sys/firmware/devicetree/base/model: boards (a Raspberry Pi names itself here). */
  deviceTree?: string | null;
  /** DMI sys_vendor and product_name: PCs, servers, virtual machines. */
  manufacturer?: string | null;
  product?: string | null;
  /** A container runtime's marker, when there is neither. */
  container?: string | null;
}

const PLACEHOLDER = /^(to be filled|default string|system product name|not specified|none$|o\.e\.m\.?$)/i;

const clean = (s: string | null | undefined): string => (s ?? "").replace(/\0/g, "").trim();

/** Pure: picks the most telling model string from what the firmware reports. */
export function describeModel(facts: ModelFacts): string {
  const board = clean(facts.deviceTree);
  if (board) return board;
  const product = clean(facts.product);
  const maker = clean(facts.manufacturer);
  if (product && !PLACEHOLDER.test(product))
    return maker && !PLACEHOLDER.test(maker) && !product.toLowerCase().startsWith(maker.toLowerCase()) ? `${maker} ${product}` : product;
  if (maker && !PLACEHOLDER.test(maker)) return maker;
  return clean(facts.container) || "unknown";
}

/** Pure: the distribution's name from os-release (PRETTY_NAME, else NAME VERSION_ID). */
export function osName(osRelease: string | null): string | null {
  if (!osRelease) return null;
  const fields = new Map<string, string>();
  for (const line of osRelease.split("\n")) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) fields.set(match[1], match[2].replace(/^(["'])(.*)\1$/, "$2"));
  }
  return fields.get("PRETTY_NAME") || [fields.get("NAME"), fields.get("VERSION_ID")].filter(Boolean).join(" ") || null;
}

const read = (path: string) => readFile(path, "utf8").catch(() => null);
const exists = (path: string) => readFile(path).then(() => true, (e: NodeJS.ErrnoException) => e.code !== "ENOENT");

/** The firmware's and container runtime's facts cannot change while the system runs: read once. */
let bootFacts: Promise<ModelFacts> | null = null;

function readBootFacts(): Promise<ModelFacts> {
  bootFacts ??= Promise.all([
    read("/sys/firmware/devicetree/base/model"),
    read("/sys/class/dmi/id/sys_vendor"),
    read("/sys/class/dmi/id/product_name"),
    exists("/.dockerenv"),
    exists("/run/.containerenv"),
  ]).then(([deviceTree, manufacturer, product, docker, podman]) => ({
    deviceTree,
    manufacturer,
    product,
    container: docker ? "Docker container" : podman ? "Podman container" : null,
  }));
  return bootFacts;
}

/** os-release and the hostname are read each time: an upgrade or `hostnamectl` changes them. */
export async function probeHost(): Promise<HostInfo> {
  const [etcOs, usrOs, facts] = await Promise.all([read("/etc/os-release"), read("/usr/lib/os-release"), readBootFacts()]);
  return {
    state: "ok",
    hostname: hostname(),
    os: osName(etcOs) ?? osName(usrOs) ?? platform(),
    kernel: release(),
    model: describeModel(facts),
    arch: arch(),
  };
}
