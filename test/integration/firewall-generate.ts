// Random nftables rulesets and packets for the kernel comparison, from a seed so that a failing
// case can be replayed (FIREWALL_SEED). The grammar covers what the evaluator claims to model:
// several tables and families, base chains on the in/out hooks at mixed priorities, user chains
// reached by jump/goto, sets, verdict maps, concatenations, ct state, notrack, marks, !=.
import { A4, A6, B4, B6, C4, C6, PORTS, type Case } from "./firewall-lab";

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
const chance = (rng: Rng, p: number) => rng() < p;

const SPORTS = [41641, 5000, 53, 40000];
const ALL4 = [...A4, ...B4, ...C4];
const ALL6 = [...A6, ...B6, ...C6];
const SET6 = ["2001:db8:100::/48", "2001:db8:300::/48", "2001:db8:400::/48", "2001:db8:200::1"];

function addr4(rng: Rng): string {
  const a = pick(rng, ALL4);
  const len = pick(rng, [32, 24, 16, 8]);
  return len === 32 ? a : `${a.split(".").map((o, i) => (i * 8 < len ? o : "0")).join(".")}/${len}`;
}

function addr6(rng: Rng): string {
  const a = pick(rng, ALL6);
  return pick(rng, [a, "2001:db8:100::/48", "2001:db8:100::/56", "2001:db8:200::/40", "2001:db8::/32", "2001:db8:300::/48", "2001:db8:400::/48"]);
}

interface TableCtx {
  family: "inet" | "ip" | "ip6";
  sets: string[];
}

function portExpr(rng: Rng): string {
  const p = () => pick(rng, [...PORTS, ...SPORTS]);
  switch (Math.floor(rng() * 4)) {
    case 0: return `${p()}`;
    case 1: return `!= ${p()}`;
    case 2: { const lo = Math.min(p(), p()); const hi = lo + Math.floor(rng() * 5000) + 1; return `${lo}-${hi}`; }
    default: return `{ ${[...new Set([p(), p()])].join(", ")} }`;
  }
}

/** What one rule has committed to: nft refuses `udp ... tcp ...` or `ip ... ip6 ...` in one rule. */
interface RuleCtx {
  l4?: string;
  fam?: "ip" | "ip6";
}

interface Option {
  l4?: string;
  fam?: "ip" | "ip6";
  gen: () => string;
}

function match(rng: Rng, t: TableCtx, r: RuleCtx): string {
  const v4 = t.family !== "ip6";
  const v6 = t.family !== "ip";
  const options: Option[] = [
    { l4: "udp", gen: () => `udp dport ${portExpr(rng)}` },
    { l4: "udp", gen: () => `udp sport ${portExpr(rng)}` },
    { gen: () => `th dport ${portExpr(rng)}` },
    { l4: "tcp", gen: () => `tcp dport ${pick(rng, [22, 41641, 5000])}` },
    { l4: "udp", gen: () => "meta l4proto udp" },
    { l4: "tcp", gen: () => "meta l4proto tcp" },
    { l4: "udp|tcp", gen: () => "meta l4proto { udp, tcp }" },
    { gen: () => `ct state ${pick(rng, ["new", "established,related", "!= new", "untracked", "{ new, untracked }", "invalid"])}` },
    { gen: () => `iifname ${pick(rng, ['"eth0"', '"eth*"', '"lo"', '!= "eth0"'])}` },
    { gen: () => `oifname ${pick(rng, ['"eth1"', '"eth*"', '"lo"', '!= "eth1"'])}` },
    { gen: () => `meta mark ${pick(rng, ["0x1", "!= 0x1", "0"])}` },
  ];
  if (v4) options.push({ fam: "ip", gen: () => `ip ${pick(rng, ["saddr", "daddr"])} ${chance(rng, 0.2) ? "!= " : ""}${addr4(rng)}` });
  if (v6) options.push({ fam: "ip6", gen: () => `ip6 ${pick(rng, ["saddr", "daddr"])} ${chance(rng, 0.2) ? "!= " : ""}${addr6(rng)}` });
  if (v6) options.push({ fam: "ip6", l4: "udp", gen: () => `ip6 daddr . udp dport { ${pick(rng, ALL6)} . ${pick(rng, PORTS)}, ${pick(rng, ALL6)} . ${pick(rng, PORTS)} }` });
  if (t.family === "inet") options.push({ fam: "ip", gen: () => "meta nfproto ipv4" }, { fam: "ip6", gen: () => "meta nfproto ipv6" });
  if (t.sets.includes("ports")) options.push({ l4: "udp", gen: () => "udp dport @ports" });
  if (t.sets.includes("s6")) options.push({ fam: "ip6", gen: () => "ip6 saddr @s6" });
  if (t.sets.includes("s4")) options.push({ fam: "ip", gen: () => "ip daddr @s4" });
  const fit = options.filter((o) => (!o.l4 || !r.l4 || o.l4 === r.l4) && (!o.fam || !r.fam || o.fam === r.fam));
  const o = pick(rng, fit);
  if (o.l4) r.l4 = o.l4;
  if (o.fam) r.fam = o.fam;
  return o.gen();
}

function rule(rng: Rng, t: TableCtx, hook: string, chainIndex: number, users: string[], inBase: boolean): string {
  const r: RuleCtx = {};
  const matches = Array.from({ length: Math.floor(rng() * 3) }, () => match(rng, t, r));
  let act = action(rng, hook, chainIndex, users, inBase);
  if (act.startsWith("udp dport vmap") && r.l4 && r.l4 !== "udp") act = "accept";
  return `${matches.join(" ")} ${act}`;
}

function action(rng: Rng, hook: string, chainIndex: number, userChains: string[], inBase: boolean): string {
  const later = userChains.filter((_, i) => inBase || i > chainIndex);
  const options: string[] = ["accept", "accept", "drop", "counter", "continue", "meta mark set 0x1", "log prefix \"gen \"", "limit rate 1000/second burst 100 packets accept"];
  if (hook === "input" || hook === "output") options.push("reject");
  if (inBase && (hook === "prerouting" || hook === "output")) options.push("notrack");
  if (!inBase) options.push("return");
  if (later.length) options.push(`jump ${pick(rng, later)}`, `goto ${pick(rng, later)}`);
  options.push(`udp dport vmap { ${pick(rng, PORTS)} : accept, ${pick(rng, PORTS)} : drop }`.replace(/\{ (\d+) : accept, \1 : drop \}/, "{ $1 : accept }"));
  return pick(rng, options);
}

/** One random ruleset in nft syntax. Rulesets the kernel refuses are simply drawn again. */
export function generateRuleset(rng: Rng): string {
  const out: string[] = [];
  const tables = 1 + Math.floor(rng() * 3);
  for (let ti = 0; ti < tables; ti++) {
    const family = pick(rng, ["inet", "inet", "ip", "ip6"] as const);
    const t: TableCtx = { family, sets: [] };
    const body: string[] = [];
    // Interval sets refuse overlapping elements: draw from disjoint ones.
    if (family !== "ip" && chance(rng, 0.4)) { t.sets.push("s6"); body.push(`  set s6 { type ipv6_addr; flags interval; elements = { ${[...new Set([pick(rng, SET6), pick(rng, SET6)])].join(", ")} } }`); }
    if (family !== "ip6" && chance(rng, 0.4)) { t.sets.push("s4"); body.push(`  set s4 { type ipv4_addr; flags interval; elements = { ${addr4(rng)} } }`); }
    if (chance(rng, 0.4)) { t.sets.push("ports"); body.push(`  set ports { type inet_service; flags interval; elements = { ${pick(rng, [41641, 53, 161])}, ${pick(rng, ["1000-4000", "4000-6000", "5000"])} } }`); }
    // Same-priority chains on one hook run in an order the kernel leaves undefined; a ruleset
    // whose answer depends on it is not a fair test, so priorities are kept distinct per hook.
    const users = Array.from({ length: Math.floor(rng() * 3) }, (_, i) => `u${ti}_${i}`);
    const bases = 1 + Math.floor(rng() * 3);
    const usedHooks = new Set<string>();
    for (let bi = 0; bi < bases; bi++) {
      const hook = pick(rng, ["input", "input", "output", "output", "prerouting", "postrouting"]);
      if (usedHooks.has(hook)) continue;
      usedHooks.add(hook);
      const prio = pick(rng, [-300, -150, -10, 0, 10, 100]) + ti;
      const policy = chance(rng, 0.25) ? "drop" : "accept";
      body.push(`  chain b${bi} {`, `    type filter hook ${hook} priority ${prio}; policy ${policy};`);
      const n = Math.floor(rng() * 6);
      for (let r = 0; r < n; r++) body.push(`    ${rule(rng, t, hook, -1, users, true)}`);
      body.push("  }");
    }
    users.forEach((name, ui) => {
      body.push(`  chain ${name} {`);
      const n = Math.floor(rng() * 4);
      for (let r = 0; r < n; r++) body.push(`    ${rule(rng, t, "user", ui, users, false)}`);
      body.push("  }");
    });
    out.push(`table ${family} t${ti} {`, ...body, "}");
  }
  return out.join("\n");
}

/** Inbound cases A -> B and outbound B -> C, with distinct 5-tuples so each is a new flow. */
export function generatePackets(rng: Rng, prefix: string, perDirection: number): Case[] {
  const cases: Case[] = [];
  const seen = new Set<string>();
  for (const direction of ["in", "out"] as const) {
    for (let tries = 0, made = 0; made < perDirection && tries < 100; tries++) {
      const family = pick(rng, ["ipv6", "ipv4"] as const);
      const saddr = pick(rng, direction === "in" ? (family === "ipv6" ? A6 : A4) : family === "ipv6" ? B6 : B4);
      const daddr = pick(rng, direction === "in" ? (family === "ipv6" ? B6 : B4) : family === "ipv6" ? C6 : C4);
      const sport = pick(rng, SPORTS);
      const dport = pick(rng, PORTS);
      const key = `${saddr} ${sport} ${daddr} ${dport}`;
      if (seen.has(key)) continue;
      seen.add(key);
      made++;
      cases.push({ id: `${prefix}-${direction}-${made}`, direction, family, proto: "udp", saddr, daddr, sport, dport, ...(direction === "in" ? { iif: "eth0" } : { oif: "eth1" }) });
    }
  }
  return cases;
}
