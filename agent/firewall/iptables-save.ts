// Reads iptables-save / ip6tables-save text (legacy or nft backend) into the ruleset model. The
// built-in chains become base chains at the priorities the kernel registers for their tables;
// matches and targets outside the modelled set make the rule `unknown` (never a guess).
import { addressValue, PROTO_NUMBERS } from "./packet";
import { addChain, chainKey, emptyRuleset, RulesetError, type Chain, type Component, type Hook, type Key, type Rule, type Ruleset, type Statement } from "./ruleset";
import { CT_BITS } from "./evaluate";

class Unmodelled extends Error {}

// Table -> built-in chain -> [hook, priority] (include/uapi/linux/netfilter_ipv4.h NF_IP_PRI_*).
const BUILTIN: Record<string, Record<string, [Hook, number]>> = {
  raw: { PREROUTING: ["prerouting", -300], OUTPUT: ["output", -300] },
  mangle: { PREROUTING: ["prerouting", -150], INPUT: ["input", -150], FORWARD: ["forward", -150], OUTPUT: ["output", -150], POSTROUTING: ["postrouting", -150] },
  nat: { PREROUTING: ["prerouting", -100], INPUT: ["input", 100], OUTPUT: ["output", -100], POSTROUTING: ["postrouting", 100] },
  filter: { INPUT: ["input", 0], FORWARD: ["forward", 0], OUTPUT: ["output", 0] },
  security: { INPUT: ["input", 50], FORWARD: ["forward", 50], OUTPUT: ["output", 50] },
};

/** Splits a rule line the way iptables-save quotes it ("..." with backslash escapes). */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === " " || line[i] === "\t") i++;
    if (i >= line.length) break;
    let tok = "";
    while (i < line.length && line[i] !== " " && line[i] !== "\t") {
      if (line[i] === '"') {
        i++;
        while (i < line.length && line[i] !== '"') {
          if (line[i] === "\\" && i + 1 < line.length) i++;
          tok += line[i++];
        }
        i++;
      } else tok += line[i++];
    }
    out.push(tok);
  }
  return out;
}

const single = (v: bigint): Component[] => [{ lo: v, hi: v }];

function portSpec(text: string): Component {
  const m = /^(\d*)(?::(\d*))?$/.exec(text);
  if (!m) throw new Unmodelled(`cannot read port ${text}`);
  if (m[2] === undefined) {
    if (m[1] === "") throw new Unmodelled(`cannot read port ${text}`);
    return { lo: BigInt(m[1]), hi: BigInt(m[1]) };
  }
  return { lo: BigInt(m[1] || 0), hi: BigInt(m[2] || 65535) };
}

function addressSpec(text: string, family: "ipv4" | "ipv6"): Component {
  const [addr, mask] = text.split("/");
  const bits = family === "ipv4" ? 32 : 128;
  const value = addressValue(addr, family);
  if (value === null) throw new Unmodelled(`cannot read address ${text}`);
  let len = bits;
  if (mask !== undefined) {
    if (/^\d+$/.test(mask)) len = Number(mask);
    else {
      const m = addressValue(mask, family);
      if (m === null) throw new Unmodelled(`cannot read mask ${mask}`);
      len = m.toString(2).replace(/0+$/, "").length;
      if (m !== 0n && m.toString(2).length !== bits) len = 0;
    }
  }
  if (len > bits) throw new Unmodelled(`prefix length ${len} too long`);
  const host = (1n << BigInt(bits - len)) - 1n;
  return { lo: value & ~host, hi: (value & ~host) | host };
}

function ifaceSpec(text: string): Component {
  return text.endsWith("+") ? { name: text.slice(0, -1), wildcard: true } : { name: text, wildcard: false };
}

/**
 * xt_conntrack's virtual states SNAT and DNAT are the connection's NAT status, not a state: a
 * bit no state has stands for each, and the key says the evaluator must decide it (a new
 * connection has no NAT status yet; an older one is not modelled).
 */
const NAT_STATES: Record<string, bigint> = { snat: 1n << 40n, dnat: 1n << 41n };

function ctStates(text: string): { key: Key; elements: Component[][] } {
  let nat = false;
  const elements = text.split(",").map((s) => {
    const name = s.toLowerCase();
    const bit = CT_BITS[name] ?? NAT_STATES[name];
    if (bit === undefined) throw new Unmodelled(`conntrack state ${s} is not modelled`);
    if (NAT_STATES[name] !== undefined) nat = true;
    return single(bit);
  });
  const states = elements.reduce((bits, [c]) => bits | ("lo" in c && c.lo < NAT_STATES.snat ? c.lo : 0n), 0n);
  return { key: nat ? { field: "ctstate", natStatusBeside: states } : { field: "ctstate" }, elements };
}

function numberSpec(text: string): bigint {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) throw new Unmodelled(`cannot read number ${text}`);
  return BigInt(text);
}

/** Matches whose options are read here (rt never matches: see below). */
const MODULES = new Set(["udp", "tcp", "multiport", "conntrack", "state", "comment", "mark", "limit", "addrtype", "rpfilter", "recent", "hashlimit", "length"]);

interface Parsed {
  matches: Statement[];
  unknowns: Statement[];
  target: Statement[];
}

function ruleStatements(args: string[], family: "ipv4" | "ipv6"): Parsed {
  const matches: Statement[] = [];
  const unknowns: Statement[] = [];
  const target: Statement[] = [];
  let l4: number[] | undefined;
  let module = "";
  let negate = false;
  let i = 0;
  const next = (opt: string): string => {
    const v = args[++i];
    if (v === undefined) throw new RulesetError(`option ${opt} has no value`);
    return v;
  };
  const match = (key: Key, elements: Component[][]) => {
    matches.push(elements.length === 1 && elements[0].length === 1
      ? { kind: "test", key, component: elements[0][0], negate }
      : { kind: "match", keys: [key], op: negate ? "notin" : "in", set: { elements } });
    negate = false;
  };
  const unknown = (reason: string) => {
    unknowns.push({ kind: "unknown", reason });
    negate = false;
  };
  /** Modules whose options combine into one test, added once all their options are read. */
  const closeModules = () => {
    if (rpfilter.seen) {
      matches.push({ kind: "test", key: { field: "rpfilter", loose: rpfilter.loose }, component: { lo: 1n, hi: 1n }, negate: rpfilter.invert });
      rpfilter.seen = rpfilter.loose = rpfilter.invert = false;
    }
    if (recent.check) {
      if (recent.hitcount !== undefined && recent.hitcount > 1) matches.push({ kind: "never" });
      else unknowns.push({ kind: "unknown", reason: `-m recent ${recent.check} depends on the packets seen before` });
      recent.check = recent.hitcount = undefined;
    }
  };
  const rpfilter = { seen: false, loose: false, invert: false };
  const recent: { check?: string; hitcount?: number } = {};
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === "-j" || a === "--jump" || a === "-g" || a === "--goto") closeModules();
    if (a === "!") { negate = true; continue; }
    try {
      switch (a) {
        case "-p": case "--protocol": {
          const p = next(a).toLowerCase();
          if (p === "all" || p === "0") { negate = false; break; }
          const n = /^\d+$/.test(p) ? Number(p) : PROTO_NUMBERS[p];
          if (n === undefined) throw new Unmodelled(`protocol ${p} is not modelled`);
          if (!negate) l4 = [n];
          match({ field: "l4proto" }, [single(BigInt(n))]);
          break;
        }
        case "-s": case "--source": match({ field: "saddr", family }, next(a).split(",").map((s) => [addressSpec(s, family)])); break;
        case "-d": case "--destination": match({ field: "daddr", family }, next(a).split(",").map((s) => [addressSpec(s, family)])); break;
        case "-i": case "--in-interface": match({ field: "iifname" }, [[ifaceSpec(next(a))]]); break;
        case "-o": case "--out-interface": match({ field: "oifname" }, [[ifaceSpec(next(a))]]); break;
        case "-m": case "--match":
          closeModules();
          module = next(a);
          // The packets asked about carry no IPv6 extension header: a routing-header match fails.
          if (module === "rt") matches.push({ kind: "never" });
          else if (module === "rpfilter") rpfilter.seen = true;
          else if (!MODULES.has(module)) unknown(`-m ${module} is not modelled`);
          break;
        case "--src-type": case "--dst-type":
          match({ field: "xtaddrtype", addr: a === "--src-type" ? "saddr" : "daddr", types: next(a).split(",").map((t) => t.toUpperCase()) }, [single(1n)]);
          break;
        case "--limit-iface-in": case "--limit-iface-out": unknown(`-m addrtype ${a} is not modelled`); break;
        case "--loose": if (module === "rpfilter") { rpfilter.loose = true; break; } unknown(`${a} is not modelled`); break;
        case "--invert": if (module === "rpfilter") { rpfilter.invert = true; break; } unknown(`${a} is not modelled`); break;
        // The source is never this host's own address in a modelled lookup, and policy
        // routing (which a mark would select) is not followed.
        case "--accept-local": case "--validmark": if (module === "rpfilter") break; unknown(`${a} is not modelled`); break;
        case "--set": if (module === "recent") { negate = false; break; } unknown(`${a} is not modelled`); break;
        case "--name": case "--mask": case "--seconds": case "--rsource": case "--rdest": case "--rttl": case "--reap":
          if (module !== "recent") { unknown(`${a} is not modelled`); break; }
          if (a !== "--rsource" && a !== "--rdest" && a !== "--rttl" && a !== "--reap") next(a);
          break;
        case "--update": case "--rcheck": case "--remove": recent.check = a; break;
        // hashlimit, like limit, is taken to let one packet through: under a rate it matches
        // (--hashlimit-upto), above it (--hashlimit-above) it does not.
        case "--hashlimit-upto": case "--hashlimit": next(a); break;
        case "--hashlimit-above": next(a); matches.push({ kind: "never" }); negate = false; break;
        case "--hashlimit-burst": case "--hashlimit-mode": case "--hashlimit-name": case "--hashlimit-srcmask": case "--hashlimit-dstmask":
        case "--hashlimit-htable-size": case "--hashlimit-htable-max": case "--hashlimit-htable-expire": case "--hashlimit-htable-gcinterval": case "--hashlimit-rate-interval": case "--hashlimit-rate-match":
          if (module !== "hashlimit") { unknown(`${a} is not modelled`); break; }
          if (a !== "--hashlimit-rate-match") next(a);
          break;
        // One packet never reaches a hit count above one (as a rate limit it is not over).
        case "--hitcount": recent.hitcount = Number(next(a)); break;
        // xt_length: the whole IP packet (IPv6: payload length plus the fixed header).
        case "--length": match({ field: "length", lengthOf: "meta" }, [[portSpec(next(a))]]); break;
        case "--sport": case "--source-port": case "--dport": case "--destination-port": {
          const field = a.startsWith("--s") ? "sport" : "dport";
          match({ field, l4 }, [[portSpec(next(a))]]);
          break;
        }
        case "--sports": case "--source-ports": case "--dports": case "--destination-ports": {
          const field = a.startsWith("--s") ? "sport" : "dport";
          match({ field, l4 }, next(a).split(",").map((p) => [portSpec(p)]));
          break;
        }
        case "--ctstate": case "--state": { const states = ctStates(next(a)); match(states.key, states.elements); break; }
        case "--comment": next(a); break;
        case "--mark": {
          const [v, m] = next(a).split("/");
          const key: Key = { field: "mark" };
          if (m !== undefined) key.mask = numberSpec(m);
          match(key, [single(numberSpec(v))]);
          break;
        }
        case "--limit": case "--limit-burst": next(a); break;
        case "-j": case "--jump": case "-g": case "--goto": {
          const name = next(a);
          i++;
          const rest = args.slice(i);
          i = args.length;
          target.push(...targetStatements(name, rest, a === "-g" || a === "--goto"));
          break;
        }
        case "-c": case "--set-counters": next(a); break;
        default:
          if (module === "rt" && a.startsWith("--rt-")) {
            if (a !== "--rt-0-not-strict" && args[i + 1] !== undefined) i++;
            negate = false;
            break;
          }
          if (a.startsWith("-")) {
            // An option of an unmodelled module, or one with a value we skip along with it.
            if (args[i + 1] !== undefined && !args[i + 1].startsWith("-") && args[i + 1] !== "!") i++;
            unknown(`${module ? `-m ${module} ` : ""}${a} is not modelled`);
          } else throw new Unmodelled(`unexpected word ${a}`);
      }
    } catch (e) {
      if (e instanceof Unmodelled) unknown(e.message);
      else throw e;
    }
  }
  closeModules();
  return { matches, unknowns, target };
}

function targetStatements(name: string, rest: string[], isGoto: boolean): Statement[] {
  const opt = (o: string) => { const k = rest.indexOf(o); return k >= 0 ? rest[k + 1] : undefined; };
  switch (name) {
    case "ACCEPT": return [{ kind: "verdict", verdict: { kind: "accept" } }];
    case "DROP": return [{ kind: "verdict", verdict: { kind: "drop" } }];
    case "REJECT": return [{ kind: "verdict", verdict: { kind: "reject" } }];
    case "RETURN": return [{ kind: "verdict", verdict: { kind: "return" } }];
    case "LOG": case "NFLOG": return [{ kind: "nop" }];
    case "NOTRACK": return [{ kind: "notrack" }];
    case "CT":
      if (rest.includes("--notrack")) return [{ kind: "notrack" }];
      // A helper only watches the connection for related ones; it does not filter.
      if (rest.length === 2 && rest[0] === "--helper") return [{ kind: "nop" }];
      return [{ kind: "unknown", reason: `-j CT ${rest.join(" ")} is not modelled` }];
    case "MASQUERADE": case "SNAT": return [{ kind: "srcnat" }];
    case "MARK": {
      const v = opt("--set-mark") ?? opt("--set-xmark");
      if (v) {
        const [value, mask] = v.split("/");
        if (mask === undefined || /^0xffffffff$/i.test(mask)) return [{ kind: "setmark", value: numberSpec(value) }];
      }
      return [{ kind: "unknown", reason: `-j MARK ${rest.join(" ")} is not modelled` }];
    }
    default:
      // A user chain, or a target extension: told apart once all chains are known.
      return [{ kind: "verdict", verdict: { kind: isGoto ? "goto" : "jump", target: name } }];
  }
}

/** Parses iptables-save or ip6tables-save output. `family` applies where the text does not say. */
export function parseIptablesSave(text: string, source = "iptables", defaultFamily: "ipv4" | "ipv6" = "ipv4"): Ruleset {
  const ruleset = emptyRuleset();
  let family: "ipv4" | "ipv6" = defaultFamily;
  let table: string | null = null;
  const targets = new Set(["ACCEPT", "DROP", "REJECT", "RETURN", "LOG", "NFLOG", "NOTRACK", "CT", "MASQUERADE", "SNAT", "DNAT", "REDIRECT", "MARK", "CONNMARK", "TCPMSS", "TPROXY", "NFQUEUE", "QUEUE", "CHECKSUM", "TRACE", "AUDIT", "TEE", "SECMARK", "CONNSECMARK", "CLASSIFY", "DSCP", "TOS", "TTL", "HL", "HMARK", "IDLETIMER", "LED", "SET", "SYNPROXY", "ULOG", "CLUSTERIP", "NETMAP", "RATEEST", "TCPOPTSTRIP"]);
  const pending: { line: number; chain: Chain; args: string[]; text: string }[] = [];
  let sawAny = false;
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    const where = `line ${n + 1}`;
    if (line.startsWith("#")) {
      if (/ip6tables-(legacy-|nft-)?save/.test(line)) family = "ipv6";
      else if (/iptables-(legacy-|nft-)?save/.test(line)) family = "ipv4";
      continue;
    }
    if (line === "") continue;
    if (line.startsWith("*")) {
      table = line.slice(1);
      if (!/^[a-z_]+$/.test(table)) throw new RulesetError(`${where}: bad table name ${JSON.stringify(table)}`);
      sawAny = true;
      continue;
    }
    if (line === "COMMIT") { table = null; continue; }
    if (table === null) throw new RulesetError(`${where}: ${JSON.stringify(line.slice(0, 40))} outside a *table ... COMMIT block: not iptables-save output`);
    const fam = family === "ipv4" ? "ip" : "ip6";
    if (line.startsWith(":")) {
      const m = /^:(\S+)\s+(\S+)/.exec(line);
      if (!m) throw new RulesetError(`${where}: bad chain line ${JSON.stringify(line)}`);
      const chain: Chain = { family: fam, table, name: m[1], source, rules: [] };
      const builtin = BUILTIN[table]?.[m[1]];
      if (builtin) {
        const policy = m[2].toLowerCase();
        if (policy !== "accept" && policy !== "drop") throw new RulesetError(`${where}: chain ${m[1]} has policy ${m[2]}`);
        chain.base = { type: table === "nat" ? "nat" : "filter", hook: builtin[0], prio: builtin[1], policy };
      } else if (m[2] !== "-") throw new RulesetError(`${where}: ${m[1]} is not a built-in chain of table ${table} but has policy ${m[2]}`);
      addChain(ruleset, chain);
      continue;
    }
    let args = tokenize(line);
    if (/^\[\d+:\d+\]$/.test(args[0] ?? "")) args = args.slice(1);
    if (args[0] !== "-A" || args.length < 2) throw new RulesetError(`${where}: expected -A CHAIN ..., got ${JSON.stringify(line.slice(0, 40))}`);
    const chain = ruleset.byName.get(chainKey(source, fam, table, args[1]));
    if (!chain) throw new RulesetError(`${where}: rule in chain ${args[1]}, which table ${table} does not declare`);
    pending.push({ line: n + 1, chain, args: args.slice(2), text: line.replace(/^\[\d+:\d+\]\s*/, "") });
  }
  if (!sawAny && text.trim() !== "") throw new RulesetError("no *table line: not iptables-save output");
  for (const p of pending) {
    const rule: Rule = { handle: p.chain.rules.length + 1, text: p.text, statements: [] };
    const userChains = new Set(ruleset.chains.filter((c) => c.table === p.chain.table && c.family === p.chain.family).map((c) => c.name));
    const parsed = ruleStatements(p.args, p.chain.family === "ip" ? "ipv4" : "ipv6");
    const target = parsed.target.map((st): Statement => {
      if (st.kind === "verdict" && (st.verdict.kind === "jump" || st.verdict.kind === "goto") && !userChains.has(st.verdict.target))
        return targets.has(st.verdict.target) ? { kind: "unknown", reason: `target ${st.verdict.target} is not modelled` } : st;
      return st;
    });
    // Matches have no side effects: a failing one decides even when another is unmodelled.
    rule.statements = [...parsed.matches, ...parsed.unknowns, ...target];
    p.chain.rules.push(rule);
  }
  return ruleset;
}
