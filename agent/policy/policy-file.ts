// A tailnet policy file read into the parts the monitoring flows depend on (`acls`, `grants`,
// `groups`, `hosts`, `tagOwners`, `tests`, postures), every entry keeping its line. Anything the
// control plane would refuse in those parts (a wrong type, a tag missing from tagOwners, an
// undefined group or host, a bad port) is a PolicyError naming line and column.
import ipaddr from "ipaddr.js";
import { HujsonError, parseHujson, type HuMember, type HuValue, type Position } from "./hujson";
import { parseIpSpec, parsePorts, parseProto, splitDst, type ProtoPorts } from "./proto-ports";

export class PolicyError extends Error {
  constructor(
    readonly code: "hujson" | "shape" | "undefined-name" | "bad-value",
    readonly detail: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line} column ${column}: ${detail}`);
    this.name = "PolicyError";
  }
}

/** A string of the file with where it stands. */
export interface Located extends Position {
  value: string;
}

/** An `acls` dst: the target part and the ports it opens. */
export interface AclDst extends Located {
  target: string;
  ports: ProtoPorts["ports"];
}

interface Entry {
  /** Position in its own section (acls[0], grants[2]). */
  index: number;
  line: number;
  column: number;
  /** The entry as compact JSON, for a person to recognise it. */
  text: string;
  /** A srcPosture on the entry, or the policy's defaultSrcPosture when it has none. */
  posture: string[];
}

export interface AclEntry extends Entry {
  section: "acls";
  src: Located[];
  dst: AclDst[];
  /** null: no proto (TCP, UDP and ICMP). */
  proto: number[] | null;
}

export interface GrantEntry extends Entry {
  section: "grants";
  src: Located[];
  dst: Located[];
  /** Network-level access; empty for an app-only grant, which admits no packet. */
  ip: ProtoPorts[];
  via: string[];
}

export interface PolicyTest {
  index: number;
  line: number;
  src: string;
  proto: string | null;
  accept: string[];
  deny: string[];
}

export interface Policy {
  acls: AclEntry[];
  grants: GrantEntry[];
  /** group name -> members (users; Tailscale does not let groups hold tags). */
  groups: Record<string, Located[]>;
  /** host alias -> address or prefix. */
  hosts: Record<string, Located>;
  tagOwners: Record<string, Position>;
  tests: PolicyTest[];
  /** Which of acls / grants the file has (a fix is written in the syntax it already uses). */
  has: { acls: boolean; grants: boolean };
  /** Things that do not stop the control plane but a person should see. */
  warnings: string[];
}

/** Sections of the policy format; keys are matched ignoring case, as Go's JSON decoding does. */
const SECTIONS = ["acls", "grants", "groups", "hosts", "tagOwners", "tests", "ssh", "sshTests", "nodeAttrs", "autoApprovers", "postures", "defaultSrcPosture", "ipsets", "disableIPv4", "randomizeClientPort", "OneCGNATRoute", "derpMap", "attrs"];

export const AUTOGROUPS = ["member", "members", "tagged", "self", "internet", "danger-all", "admin", "owner", "it-admin", "network-admin", "billing-admin", "auditor", "nonroot", "shared"];

function fail(code: PolicyError["code"], detail: string, at: Position): never {
  throw new PolicyError(code, detail, at.line, at.column);
}

const KIND_NAMES: Record<HuValue["kind"], string> = { object: "an object", array: "a list", string: "a string", number: "a number", boolean: "true/false", null: "null" };

function want<K extends HuValue["kind"]>(node: HuValue, kind: K, what: string): Extract<HuValue, { kind: K }> {
  if (node.kind !== kind) fail("shape", `${what} must be ${KIND_NAMES[kind]}, not ${KIND_NAMES[node.kind]}`, node.pos);
  return node as Extract<HuValue, { kind: K }>;
}

function strings(node: HuValue, what: string): Located[] {
  return want(node, "array", what).items.map((item, i) => ({ ...want(item, "string", `${what}[${i}]`).pos, value: (item as { value: string }).value }));
}

/** Members by lower-cased key; a key given twice is refused (which one wins would be a guess). */
function members(obj: Extract<HuValue, { kind: "object" }>, what: string, allowed?: string[]): Map<string, HuMember> {
  const out = new Map<string, HuMember>();
  for (const m of obj.members) {
    const key = m.key.toLowerCase();
    if (out.has(key)) fail("shape", `"${m.key}" is given twice in ${what}`, m.keyPos);
    if (allowed && !allowed.some((a) => a.toLowerCase() === key)) fail("shape", `unknown key "${m.key}" in ${what} (known: ${allowed.join(", ")})`, m.keyPos);
    out.set(key, m);
  }
  return out;
}

function compact(node: HuValue): string {
  const show = (n: HuValue): string => {
    switch (n.kind) {
      case "object":
        return `{${n.members.map((m) => `${JSON.stringify(m.key)}: ${show(m.value)}`).join(", ")}}`;
      case "array":
        return `[${n.items.map(show).join(", ")}]`;
      case "null":
        return "null";
      default:
        return JSON.stringify(n.value);
    }
  };
  return show(node);
}

function badValue<T>(at: Position, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    return fail("bad-value", `${what}: ${(error as Error).message}`, at);
  }
}

function readAcl(node: HuValue, index: number, defaultPosture: string[]): AclEntry {
  const what = `acls[${index}]`;
  const obj = want(node, "object", what);
  const m = members(obj, what, ["action", "src", "dst", "proto", "users", "ports", "srcPosture"]);
  const action = m.get("action");
  if (!action) fail("shape", `${what} has no "action" (it must be "accept")`, obj.pos);
  if (want(action.value, "string", `${what}.action`).value !== "accept") fail("bad-value", `${what}.action must be "accept" (rules only allow; anything not allowed is denied)`, action.value.pos);
  const pick = (a: string, b: string) => {
    const x = m.get(a.toLowerCase());
    const y = m.get(b);
    if (x && y) fail("shape", `${what} has both "${a}" and its legacy name "${b}"`, y.keyPos);
    return x ?? y;
  };
  const src = pick("src", "users");
  const dst = pick("dst", "ports");
  if (!src) fail("shape", `${what} has no "src"`, obj.pos);
  if (!dst) fail("shape", `${what} has no "dst"`, obj.pos);
  const protoNode = m.get("proto");
  const proto = protoNode ? [badValue(protoNode.value.pos, `${what}.proto`, () => parseProto(want(protoNode.value, "string", `${what}.proto`).value))] : null;
  const dsts = strings(dst.value, `${what}.${dst.key}`).map((d, i) => {
    const { target, ports } = badValue(d, `${what}.${dst.key}[${i}]`, () => splitDst(d.value));
    return { ...d, target, ports: badValue(d, `${what}.${dst.key}[${i}]`, () => parsePorts(ports)) };
  });
  const posture = m.get("srcposture");
  return {
    section: "acls", index, line: obj.pos.line, column: obj.pos.column, text: compact(node),
    src: strings(src.value, `${what}.${src.key}`), dst: dsts, proto,
    posture: posture ? strings(posture.value, `${what}.srcPosture`).map((p) => p.value) : defaultPosture,
  };
}

function readGrant(node: HuValue, index: number, defaultPosture: string[]): GrantEntry {
  const what = `grants[${index}]`;
  const obj = want(node, "object", what);
  const m = members(obj, what, ["src", "dst", "ip", "app", "srcPosture", "via"]);
  const src = m.get("src");
  const dst = m.get("dst");
  if (!src) fail("shape", `${what} has no "src"`, obj.pos);
  if (!dst) fail("shape", `${what} has no "dst"`, obj.pos);
  const ip = m.get("ip");
  if (!ip && !m.get("app")) fail("shape", `${what} needs "ip" and/or "app"`, obj.pos);
  if (m.get("app")) want(m.get("app")!.value, "object", `${what}.app`);
  const via = m.get("via");
  const posture = m.get("srcposture");
  return {
    section: "grants", index, line: obj.pos.line, column: obj.pos.column, text: compact(node),
    src: strings(src.value, `${what}.src`), dst: strings(dst.value, `${what}.dst`),
    ip: ip ? strings(ip.value, `${what}.ip`).map((s, i) => badValue(s, `${what}.ip[${i}]`, () => parseIpSpec(s.value))) : [],
    via: via ? strings(via.value, `${what}.via`).map((v) => v.value) : [],
    posture: posture ? strings(posture.value, `${what}.srcPosture`).map((p) => p.value) : defaultPosture,
  };
}

function readTest(node: HuValue, index: number): PolicyTest {
  const what = `tests[${index}]`;
  const obj = want(node, "object", what);
  const m = members(obj, what, ["src", "user", "proto", "accept", "deny", "allow", "srcPostureAttrs"]);
  const src = m.get("src") ?? m.get("user");
  if (!src) fail("shape", `${what} has no "src"`, obj.pos);
  const proto = m.get("proto");
  const accept = m.get("accept") ?? m.get("allow");
  const deny = m.get("deny");
  return {
    index, line: obj.pos.line,
    src: want(src.value, "string", `${what}.src`).value,
    proto: proto ? want(proto.value, "string", `${what}.proto`).value : null,
    accept: accept ? strings(accept.value, `${what}.accept`).map((s) => s.value) : [],
    deny: deny ? strings(deny.value, `${what}.deny`).map((s) => s.value) : [],
  };
}

/** Members by their exact name (tags, groups and hosts are case-sensitive); a name given twice is refused. */
function nameMap(node: HuValue, what: string): Map<string, HuMember> {
  const out = new Map<string, HuMember>();
  for (const m of want(node, "object", what).members) {
    if (out.has(m.key)) fail("shape", `"${m.key}" is given twice in ${what}`, m.keyPos);
    out.set(m.key, m);
  }
  return out;
}

/** Every tag, group, host and autogroup an entry names must exist, as the control plane checks. */
function checkNames(policy: Policy, selectors: Located[], what: string): void {
  for (const s of selectors) {
    const v = s.value;
    if (v.startsWith("tag:")) {
      if (!(v in policy.tagOwners)) fail("undefined-name", `${what} uses ${v}, which tagOwners does not define (the control plane refuses the file)`, s);
    } else if (v.startsWith("group:")) {
      if (!(v in policy.groups)) fail("undefined-name", `${what} uses ${v}, which groups does not define`, s);
    } else if (v.startsWith("autogroup:")) {
      if (!AUTOGROUPS.includes(v.slice("autogroup:".length))) policy.warnings.push(`line ${s.line}: ${what} uses ${v}, an autogroup edge-agent does not know; it is taken to match no tagged device`);
    } else if (/^[A-Za-z][A-Za-z0-9._-]*$/.test(v) && !v.includes("@") && !(v in policy.hosts)) {
      fail("undefined-name", `${what} uses "${v}", which is not a tag, group, autogroup, user, address or a name in hosts`, s);
    }
  }
}

/** Reads a policy file's text; throws PolicyError (HuJSON or policy errors) naming line and column. */
export function parsePolicy(text: string): Policy {
  let root: HuValue;
  try {
    root = parseHujson(text);
  } catch (error) {
    if (!(error instanceof HujsonError)) throw error;
    throw new PolicyError("hujson", `not HuJSON: ${error.detail}`, error.line, error.column);
  }
  const top = want(root, "object", "a tailnet policy");
  const sections = members(top, "the policy");
  // Names come from the file: records without a prototype, so "toString" or "__proto__" is just a name.
  const policy: Policy = { acls: [], grants: [], groups: Object.create(null), hosts: Object.create(null), tagOwners: Object.create(null), tests: [], has: { acls: sections.has("acls"), grants: sections.has("grants") }, warnings: [] };
  const unknown = top.members.filter((m) => !SECTIONS.some((s) => s.toLowerCase() === m.key.toLowerCase()));
  if (unknown.length === top.members.length && unknown.length > 0) fail("shape", `no policy section here ("${unknown[0].key}" is not one; a policy has acls, grants, tagOwners, ...)`, unknown[0].keyPos);
  for (const u of unknown) policy.warnings.push(`line ${u.keyPos.line}: "${u.key}" is not a policy section edge-agent knows; ignored (a typo?)`);

  const section = (name: string) => sections.get(name.toLowerCase())?.value;
  const tagOwners = section("tagOwners");
  if (tagOwners) for (const [tag, m] of nameMap(tagOwners, "tagOwners")) {
    if (!tag.startsWith("tag:")) fail("bad-value", `tagOwners key "${tag}" must start with tag:`, m.keyPos);
    strings(m.value, `tagOwners["${tag}"]`);
    policy.tagOwners[tag] = m.keyPos;
  }
  const groups = section("groups");
  if (groups) for (const [name, m] of nameMap(groups, "groups")) {
    if (!name.startsWith("group:")) fail("bad-value", `groups key "${name}" must start with group:`, m.keyPos);
    policy.groups[name] = strings(m.value, `groups["${name}"]`);
  }
  const hosts = section("hosts");
  if (hosts) for (const [name, m] of nameMap(hosts, "hosts")) {
    const value = want(m.value, "string", `hosts["${name}"]`).value;
    if (!ipaddr.isValid(value) && !ipaddr.isValidCIDR(value)) fail("bad-value", `hosts["${name}"] must be an address or a prefix, not "${value}"`, m.value.pos);
    policy.hosts[name] = { ...m.value.pos, value };
  }
  const postureNode = section("defaultSrcPosture");
  const defaultPosture = postureNode ? strings(postureNode, "defaultSrcPosture").map((p) => p.value) : [];

  const acls = section("acls");
  if (acls) policy.acls = want(acls, "array", "acls").items.map((n, i) => readAcl(n, i, defaultPosture));
  const grants = section("grants");
  if (grants) policy.grants = want(grants, "array", "grants").items.map((n, i) => readGrant(n, i, defaultPosture));
  const tests = section("tests");
  if (tests) policy.tests = want(tests, "array", "tests").items.map(readTest);

  for (const a of policy.acls) {
    checkNames(policy, a.src, `acls[${a.index}].src`);
    checkNames(policy, a.dst.map((d) => ({ ...d, value: d.target })), `acls[${a.index}].dst`);
  }
  for (const g of policy.grants) {
    checkNames(policy, g.src, `grants[${g.index}].src`);
    checkNames(policy, g.dst, `grants[${g.index}].dst`);
  }
  return policy;
}
