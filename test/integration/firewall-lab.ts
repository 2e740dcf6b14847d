// Network namespaces for checking the firewall evaluator against the kernel: a pair joined by a
// veth (A sends, B receives) or a router between them (FA -> R -> FB). Each namespace runs one
// firewall-udp-peer.cjs helper; static neighbours and nodad addresses keep a ruleset that drops
// ICMPv6 from breaking the path itself.
import { spawn, type ChildProcessWithoutNullStreams, execFileSync } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createNetns, type Netns } from "../helpers/netns";
import { evaluate, type Decision } from "../../agent/firewall/evaluate";
import { parseIptablesSave } from "../../agent/firewall/iptables-save";
import { PLAN_AFTER_PACKETS } from "../../agent/firewall/rule-guard";
import { parseNftJson } from "../../agent/firewall/nft-json";
import { makePacket, type Packet, type PacketSpec } from "../../agent/firewall/packet";
import type { HostView } from "../../agent/firewall/host-view";
import { mergeRulesets, type Ruleset } from "../../agent/firewall/ruleset";

export const A6 = ["2001:db8:100::1", "2001:db8:200::1"];
export const A4 = ["10.0.0.1", "10.9.0.1"];
export const B6 = ["2001:db8:100:1::2", "2001:db8:300::2"];
export const B4 = ["10.0.1.2", "10.8.0.2"];
export const C6 = ["2001:db8:400::3", "2001:db8:100:2::3"];
export const C4 = ["10.0.2.3", "10.7.0.3"];
export const PORTS = [41641, 5000, 53, 161];

export class Peer {
  private waiting: ((line: string) => void)[] = [];
  constructor(readonly ns: Netns, private child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on("line", (line) => this.waiting.shift()?.(line));
  }
  request<T = Record<string, unknown>>(req: object): Promise<T & { ok: boolean; error?: string }> {
    return new Promise((resolve) => {
      this.waiting.push((line) => resolve(JSON.parse(line)));
      this.child.stdin.write(`${JSON.stringify(req)}\n`);
    });
  }
  async exec(cmd: string, args: string[], input = ""): Promise<string> {
    const r = await this.request<{ stdout: string }>({ op: "exec", cmd, args, input });
    if (!r.ok) throw new Error(`in ${this.ns.name}: ${r.error}`);
    return r.stdout;
  }
  stop(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}

function startPeer(ns: Netns): Peer {
  const child = spawn("ip", ["netns", "exec", ns.name, process.execPath, join(__dirname, "firewall-udp-peer.cjs")], { stdio: ["pipe", "pipe", "pipe"] });
  return new Peer(ns, child);
}

let vethCounter = 0;
function veth(left: Netns, leftName: string, leftMac: string, right: Netns, rightName: string, rightMac: string): void {
  const tag = `${process.pid % 10000}${vethCounter++}`;
  execFileSync("ip", ["link", "add", `fwl${tag}`, "type", "veth", "peer", "name", `fwr${tag}`]);
  execFileSync("ip", ["link", "set", `fwl${tag}`, "netns", left.name]);
  execFileSync("ip", ["link", "set", `fwr${tag}`, "netns", right.name]);
  left.exec("ip", ["link", "set", `fwl${tag}`, "name", leftName, "address", leftMac, "up"]);
  right.exec("ip", ["link", "set", `fwr${tag}`, "name", rightName, "address", rightMac, "up"]);
}

function addresses(ns: Netns, dev: string, v6: string[], v4: string[]): void {
  for (const a of v6) ns.exec("ip", ["-6", "addr", "add", `${a}/128`, "dev", dev, "nodad"]);
  for (const a of v4) ns.exec("ip", ["addr", "add", `${a}/32`, "dev", dev]);
}

function routeAll(ns: Netns, dev: string, neighbours: string[], mac: string): void {
  ns.exec("ip", ["-6", "route", "add", "default", "dev", dev]);
  ns.exec("ip", ["route", "add", "default", "dev", dev]);
  for (const n of neighbours) ns.exec("ip", ["neigh", "replace", n, "lladdr", mac, "dev", dev, "nud", "permanent"]);
}

const MAC = { a: "02:00:00:00:00:0a", b: "02:00:00:00:00:0b", rl: "02:00:00:00:01:0a", rw: "02:00:00:00:01:0b", b1: "02:00:00:00:02:0b", c: "02:00:00:00:00:0c" };

/**
 * A -> B -> C, rules only ever in B: inbound cases go A to B (iif eth0), outbound ones B to C
 * (oif eth1), so one load of a ruleset serves both directions.
 */
export interface Trio {
  a: Peer;
  b: Peer;
  c: Peer;
  close: () => void;
}

/** `ip -batch` lines: one process per namespace instead of one per command. */
function batch(ns: Netns, lines: string[]): void {
  ns.exec("ip", ["-batch", "-"], `${lines.join("\n")}\n`);
}

const addressLines = (dev: string, v6: string[], v4: string[]) => [
  ...v6.map((a) => `addr add ${a}/128 dev ${dev} nodad`),
  ...v4.map((a) => `addr add ${a}/32 dev ${dev}`),
];
const neighbourLines = (dev: string, addrs: string[], mac: string) => addrs.map((n) => `neigh replace ${n} lladdr ${mac} dev ${dev} nud permanent`);

/** Namespaces and peers made while a lab is built: removed by close(), or at once if building fails. */
class LabParts {
  private readonly namespaces: Netns[] = [];
  readonly peers: Peer[] = [];
  netns(prefix: string): Netns {
    const ns = createNetns(prefix);
    this.namespaces.push(ns);
    return ns;
  }
  peer(ns: Netns): Peer {
    const p = startPeer(ns);
    this.peers.push(p);
    return p;
  }
  readonly close = (): void => {
    this.peers.forEach((p) => p.stop());
    this.namespaces.forEach((n) => n.remove());
  };
}

async function buildLab<T>(build: (parts: LabParts) => Promise<T>): Promise<T> {
  const parts = new LabParts();
  try {
    return await build(parts);
  } catch (error) {
    parts.close();
    throw error;
  }
}

export function createTrio(): Promise<Trio> {
  return buildLab(async (parts) => {
    const a = parts.netns("fwa");
    const b = parts.netns("fwb");
    const c = parts.netns("fwc");
    const tag = `${process.pid % 10000}${vethCounter++}`;
    execFileSync("ip", ["-batch", "-"], {
      input: [`link add fwl${tag} type veth peer name fwr${tag}`, `link set fwl${tag} netns ${a.name}`, `link set fwr${tag} netns ${b.name}`,
        `link add fwm${tag} type veth peer name fwn${tag}`, `link set fwm${tag} netns ${b.name}`, `link set fwn${tag} netns ${c.name}`].join("\n") + "\n",
    });
    batch(a, [`link set fwl${tag} name eth0 address ${MAC.a} up`, ...addressLines("eth0", A6, A4), "route add default dev eth0", "route add ::/0 dev eth0", ...neighbourLines("eth0", [...B6, ...B4], MAC.b)]);
    batch(c, [`link set fwn${tag} name eth0 address ${MAC.c} up`, ...addressLines("eth0", C6, C4), "route add default dev eth0", "route add ::/0 dev eth0", ...neighbourLines("eth0", [...B6, ...B4], MAC.b1)]);
    batch(b, [
      `link set fwr${tag} name eth0 address ${MAC.b} up`, `link set fwm${tag} name eth1 address ${MAC.b1} up`,
      ...addressLines("eth0", B6, B4),
      ...A6.map((x) => `route add ${x}/128 dev eth0`), ...A4.map((x) => `route add ${x}/32 dev eth0`),
      "route add default dev eth1", "route add ::/0 dev eth1",
      ...neighbourLines("eth0", [...A6, ...A4], MAC.a), ...neighbourLines("eth1", [...C6, ...C4], MAC.c),
    ]);
    b.exec("sysctl", ["-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0"]);
    const pa = parts.peer(a);
    const pb = parts.peer(b);
    const pc = parts.peer(c);
    for (const p of [pb, pc]) {
      const r = await p.request({ op: "listen", ports: PORTS });
      if (!r.ok) throw new Error(`cannot listen: ${r.error}`);
    }
    return { a: pa, b: pb, c: pc, close: parts.close };
  });
}

/** Sends inbound cases A -> B and outbound ones B -> C after a conntrack flush in B. */
export async function trioVerdicts(trio: Trio, cases: Case[]): Promise<Map<string, "accept" | "drop">> {
  await trio.b.exec("conntrack", ["-F"]).catch(() => "");
  let early: string[] = [];
  const wire = (c: Case) => ({ id: c.id, family: c.family, saddr: c.saddr, sport: c.sport, daddr: c.daddr, dport: c.dport });
  // One after the other: while B sends from a port, a datagram to that port would reach the
  // sending socket instead of the listener.
  const s1 = await trio.a.request({ op: "send", packets: cases.filter((c) => c.direction === "in").map(wire) });
  await trio.b.request({ op: "drain", waitMs: 10 }).then((r) => (early = (r as unknown as { received: string[] }).received));
  const s2 = await trio.b.request({ op: "send", packets: cases.filter((c) => c.direction === "out").map(wire) });
  if (!s1.ok || !s2.ok) throw new Error(`send failed: ${s1.error ?? s2.error}`);
  const [r1, r2] = await Promise.all([trio.b.request<{ received: string[] }>({ op: "drain", waitMs: 20 }), trio.c.request<{ received: string[] }>({ op: "drain", waitMs: 20 })]);
  const got = new Set([...early, ...r1.received, ...r2.received]);
  return new Map(cases.map((c) => [c.id, got.has(c.id) ? "accept" : "drop"]));
}

export interface Lab {
  /** Where rules go for each direction, and who sends and receives. */
  sender: Peer;
  receiver: Peer;
  router?: Peer;
  peers: Peer[];
  close: () => void;
}

export function createLab(kind: "pair" | "forward"): Promise<Lab> {
  return buildLab(async (parts) => {
    const a = parts.netns("fwa");
    const b = parts.netns("fwb");
    let router: Peer | undefined;
    if (kind === "pair") {
      veth(a, "eth0", MAC.a, b, "eth0", MAC.b);
      routeAll(a, "eth0", [...B6, ...B4], MAC.b);
      routeAll(b, "eth0", [...A6, ...A4], MAC.a);
    } else {
      const r = parts.netns("fwr");
      veth(a, "eth0", MAC.a, r, "lan0", MAC.rl);
      veth(r, "wan0", MAC.rw, b, "eth0", MAC.b);
      routeAll(a, "eth0", [...B6, ...B4], MAC.rl);
      routeAll(r, "wan0", [...B6, ...B4], MAC.b);
      for (const x of A6) r.exec("ip", ["-6", "route", "add", `${x}/128`, "dev", "lan0"]);
      for (const x of A4) r.exec("ip", ["route", "add", `${x}/32`, "dev", "lan0"]);
      for (const x of [...A6, ...A4]) r.exec("ip", ["neigh", "replace", x, "lladdr", MAC.a, "dev", "lan0", "nud", "permanent"]);
      routeAll(b, "eth0", [...A6, ...A4], MAC.rw);
      r.exec("sysctl", ["-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0", "net.ipv4.conf.lan0.rp_filter=0"]);
      router = parts.peer(r);
    }
    addresses(a, "eth0", A6, A4);
    addresses(b, "eth0", B6, B4);
    const sender = parts.peer(a);
    const receiver = parts.peer(b);
    const r = await receiver.request({ op: "listen", ports: PORTS });
    if (!r.ok) throw new Error(`receiver cannot listen: ${r.error}`);
    return { sender, receiver, router, peers: parts.peers, close: parts.close };
  });
}

/** iptables-nft: loaded with iptables-nft-restore, read back as nft's JSON (xt where compat). */
export type Loader = "nft" | "iptables-legacy" | "iptables-nft";

export interface Case extends PacketSpec {
  id: string;
}

/** Loads a ruleset where it filters `direction`, the other namespaces left without rules. */
export async function load(lab: Lab, direction: PacketSpec["direction"], loader: Loader, text: string | { ipv4?: string; ipv6?: string }): Promise<Peer> {
  const target = direction === "in" ? lab.receiver : direction === "out" ? lab.sender : lab.router!;
  for (const p of lab.peers) await reset(p);
  if (loader === "nft") await target.exec("nft", ["-f", "-"], `flush ruleset\n${text as string}\n`);
  else {
    const t = text as { ipv4?: string; ipv6?: string };
    const tool = loader === "iptables-nft" ? "nft" : "legacy";
    if (t.ipv4) await target.exec(`iptables-${tool}-restore`, [], t.ipv4);
    if (t.ipv6) await target.exec(`ip6tables-${tool}-restore`, [], t.ipv6);
  }
  return target;
}

const usedLegacy = new WeakSet<Peer>();
async function reset(p: Peer): Promise<void> {
  await p.exec("nft", ["flush", "ruleset"]);
  if (usedLegacy.has(p)) {
    for (const cmd of ["iptables-legacy-restore", "ip6tables-legacy-restore"])
      await p.exec(cmd, [], ["filter", "raw", "mangle", "nat"].map((t) => `*${t}\n${t === "filter" ? ":INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n" : ""}COMMIT\n`).join(""));
  }
}

/** What the kernel holds now, read back the way `firewall check` reads a live host. */
export async function dump(p: Peer, loader: Loader): Promise<Ruleset> {
  if (loader !== "iptables-legacy") return parseNftJson(await p.exec("nft", ["-j", "list", "ruleset"]));
  usedLegacy.add(p);
  return mergeRulesets([
    parseIptablesSave(await p.exec("iptables-legacy-save", []), "iptables-legacy", "ipv4"),
    parseIptablesSave(await p.exec("ip6tables-legacy-save", []), "iptables-legacy", "ipv6"),
  ]);
}

export function markLegacy(p: Peer): void {
  usedLegacy.add(p);
}

/** Sends each case as a real datagram with its own payload; accepted = it arrived. */
export async function kernelVerdicts(lab: Lab, cases: Case[]): Promise<Map<string, "accept" | "drop">> {
  for (const p of lab.peers) await p.exec("conntrack", ["-F"]).catch(() => "");
  const s = await lab.sender.request({ op: "send", packets: cases.map((c) => ({ id: c.id, family: c.family, saddr: c.saddr, sport: c.sport, daddr: c.daddr, dport: c.dport })) });
  if (!s.ok) throw new Error(`send failed: ${s.error}`);
  const r = await lab.receiver.request<{ received: string[] }>({ op: "drain", waitMs: 25 });
  const got = new Set(r.received);
  return new Map(cases.map((c) => [c.id, got.has(c.id) ? "accept" : "drop"]));
}

export interface Comparison {
  decided: number;
  unknown: number;
  mismatches: string[];
  model: Map<string, Decision>;
  kernel: Map<string, "accept" | "drop">;
}

/**
 * How the packet's answer as one of a batch (`trace --packets`, which skips the rules a class
 * of packets cannot match) differs from its answer alone, or null: it must not differ at all.
 */
export function batchDiffers(ruleset: Ruleset, packet: Packet, single: Decision, host?: HostView): string | null {
  const alone = JSON.stringify(single);
  // A class's rules are sorted once its packets have entered a chain a few times: repeated,
  // the packet is answered before and after.
  for (let i = 0; i <= PLAN_AFTER_PACKETS; i++) {
    const batch = JSON.stringify(evaluate(ruleset, packet, host, { batch: true }));
    if (batch !== alone) return `as one of a batch (${i + 1}th of its class): ${batch}\n  alone: ${alone}`;
  }
  return null;
}

/** Loads, reads back, evaluates and sends: the evaluator must agree wherever it decides. */
export async function compare(lab: Lab, loader: Loader, text: string | { ipv4?: string; ipv6?: string }, cases: Case[]): Promise<Comparison> {
  const out: Comparison = { decided: 0, unknown: 0, mismatches: [], model: new Map(), kernel: new Map() };
  for (const direction of ["in", "out", "forward"] as const) {
    const batch = cases.filter((c) => c.direction === direction);
    if (!batch.length) continue;
    const target = await load(lab, direction, loader, text);
    if (loader === "iptables-legacy") markLegacy(target);
    const ruleset = await dump(target, loader);
    const kernel = await kernelVerdicts(lab, batch);
    for (const c of batch) {
      const packet = makePacket(c as unknown as Record<string, unknown>);
      const d = evaluate(ruleset, packet);
      const differs = batchDiffers(ruleset, packet, d);
      if (differs) out.mismatches.push(`${c.id}: ${differs}`);
      out.model.set(c.id, d);
      out.kernel.set(c.id, kernel.get(c.id)!);
      if (d.verdict === "unknown") { out.unknown++; continue; }
      out.decided++;
      if (d.verdict !== kernel.get(c.id))
        out.mismatches.push(`${c.id} ${c.direction} ${c.family} ${c.saddr}:${c.sport} -> ${c.daddr}:${c.dport}: model ${d.verdict} (${d.decidedBy}), kernel ${kernel.get(c.id)}\n  trace: ${d.trace.map((t) => `${t.chain}#${t.handle ?? "policy"}=${t.result}`).join(" ")}`);
    }
  }
  return out;
}
