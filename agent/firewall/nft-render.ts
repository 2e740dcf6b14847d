// The rule as nft prints it, rendered from its JSON for traces and unknown reasons.
import { isObj, only, type Json, type Obj } from "./nft-shape";

const BARE_META = new Set(["iifname", "oifname", "iif", "oif"]);

export function renderValue(v: Json): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null) return "";
  if (Array.isArray(v)) return v.map(renderValue).join(",");
  const [k, body] = only(v);
  const b = body as Obj;
  switch (k) {
    case "payload": return b.protocol !== undefined ? `${b.protocol} ${b.field}` : `@payload,${b.base},${b.offset},${b.len}`;
    // nft prints these four meta keys bare.
    case "meta": return BARE_META.has(String(b.key)) ? String(b.key) : `meta ${b.key}`;
    case "ct": return `ct ${b.key}`;
    case "set": return `{ ${(body as Json[]).map((e) => (Array.isArray(e) ? `${renderValue(e[0])} : ${renderValue(e[1])}` : renderValue(e))).join(", ")} }`;
    case "prefix": return `${b.addr}/${b.len}`;
    case "range": return `${renderValue((body as Json[])[0])}-${renderValue((body as Json[])[1])}`;
    case "concat": return (body as Json[]).map(renderValue).join(" . ");
    case "elem": return renderValue(b.val);
    case "&": case "|": case "^": case "<<": case ">>": return (body as Json[]).map(renderValue).join(` ${k} `);
    case "exthdr": return b.field === undefined ? `exthdr ${b.name}` : `${b.name} ${b.field}`;
    case "fib": return `fib ${(Array.isArray(b.flags) ? b.flags : [b.flags]).map(renderValue).join(" . ")} ${b.result}`;
    case "jump": case "goto": return `${k} ${b.target}`;
    default: return body === null ? k : `${k} ${JSON.stringify(body)}`;
  }
}

export function renderStatement(s: Json): string {
  const [k, body] = only(s);
  const b = (body ?? {}) as Obj;
  switch (k) {
    case "match": {
      const binop = isObj(b.left) && ("&" in b.left || "|" in b.left);
      const op = (b.op === undefined || b.op === "==" || b.op === "in") && !binop ? "" : `${b.op ?? "=="} `;
      if (typeof b.right === "boolean" && isObj(b.left) && ("fib" in b.left || "exthdr" in b.left)) return `${renderValue(b.left)} ${op}${b.right ? "exists" : "missing"}`;
      const right = typeof b.right === "string" && isObj(b.left) && "meta" in b.left && /name$/.test(String((b.left.meta as Obj).key)) ? `"${b.right}"` : renderValue(b.right);
      return `${renderValue(b.left)} ${op}${right}`;
    }
    case "counter": return "counter";
    case "log": return b.prefix !== undefined ? `log prefix "${b.prefix}"` : "log";
    case "limit": return `limit rate ${b.inv ? "over " : ""}${b.rate}/${b.per ?? "second"}`;
    case "mangle": return `${renderValue(b.key)} set ${renderValue(b.value)}`;
    case "vmap": return `${renderValue(b.key)} vmap ${renderValue(b.data)}`;
    case "xt": return `xt ${b.type} "${b.name}"`;
    case "reject": return b.expr !== undefined ? `reject with ${b.type} ${b.expr}` : b.type === "icmp" ? "meta nfproto ipv4 reject" : b.type === "icmpv6" ? "meta nfproto ipv6 reject" : b.type === "tcp reset" ? "reject with tcp reset" : "reject";
    default: return body === null ? k : renderValue(s);
  }
}

export function renderRule(expr: Json[]): string {
  return expr.map((s) => { try { return renderStatement(s); } catch { return JSON.stringify(s)?.slice(0, 80) ?? "?"; } }).join(" ") || "(empty rule)";
}
