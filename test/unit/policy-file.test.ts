// The HuJSON parser (comments, trailing commas, strict JSON otherwise, errors at line and column),
// the policy model read from it, and the offline verdicts of the three monitoring flows.
import { describe, expect, it } from "vitest";
import { HujsonError, parseHujson, plain } from "../../agent/policy/hujson";
import { evaluatePolicy } from "../../agent/policy/policy-evaluate";
import { parsePolicy, PolicyError } from "../../agent/policy/policy-file";
import { guardTests } from "../../agent/policy/policy-tests";
import { parseIpSpec, parsePorts } from "../../agent/policy/proto-ports";

const TAGS = { scraper: "tag:scraper", node: "tag:monitor" };

function hujsonError(text: string): { code: string; line: number; column: number } {
  try {
    parseHujson(text);
  } catch (error) {
    const e = error as HujsonError;
    return { code: e.code, line: e.line, column: e.column };
  }
  throw new Error("parsed");
}

describe("HuJSON", () => {
  it("reads comments and trailing commas, and plain JSON", () => {
    const text = '/* head */ {\n  // a\n  "a": [1, 2.5e1, -0, ], "b": {"c": null, "d": true,}, // end\n  "e": "x\\u00e9\\n/*not a comment*/",\n}\n';
    expect(plain(parseHujson(text))).toEqual({ a: [1, 25, -0], b: { c: null, d: true }, e: "xé\n/*not a comment*/" });
    expect(plain(parseHujson('{"x": [1, {"y": "z"}]}'))).toEqual({ x: [1, { y: "z" }] });
  });

  it("keeps where each value starts", () => {
    const v = parseHujson('{\n\t"acls": [\n\t\t{"a": 1}\n\t]\n}');
    if (v.kind !== "object") throw new Error("not an object");
    const acls = v.members[0].value;
    expect(v.members[0].keyPos).toEqual({ line: 2, column: 2 });
    expect(acls.kind === "array" && acls.items[0].pos).toEqual({ line: 3, column: 3 });
  });

  it.each([
    ['{"a": 1 "b": 2}', "unexpected-character", 1, 9],
    ['{\n  "a": [1, 2\n}', "unexpected-character", 3, 1],
    ["{'a': 1}", "unexpected-character", 1, 2],
    ['{"a": tru}', "unexpected-character", 1, 7],
    ['{"a": 01}', "bad-number", 1, 7],
    ['{"a": "b\n"}', "unterminated-string", 1, 9],
    ['{"a": "\\x"}', "bad-escape", 1, 8],
    ['{"a": "\t"}', "control-character", 1, 8],
    ["{/* never closed", "unterminated-comment", 1, 2],
    ['{"a": 1}}', "trailing-content", 1, 9],
    ['{"a": ', "unexpected-end", 1, 7],
    ["[,]", "unexpected-character", 1, 2],
    ["", "unexpected-end", 1, 1],
  ])("%j is refused: %s at %d:%d", (text, code, line, column) => {
    expect(hujsonError(text)).toEqual({ code, line, column });
  });

  it("refuses nesting deep enough to exhaust the stack, as an error", () => {
    expect(hujsonError("[".repeat(100_000)).code).toBe("too-deep");
  });
});

describe("ports and protocols", () => {
  it("acls dst ports: *, one, a list, ranges", () => {
    expect(parsePorts("*")).toEqual([{ first: 0, last: 65535 }]);
    expect(parsePorts("22,80,1000-2000")).toEqual([{ first: 22, last: 22 }, { first: 80, last: 80 }, { first: 1000, last: 2000 }]);
    expect(() => parsePorts("0")).toThrow(/use \* for all ports/);
    expect(() => parsePorts("9-1")).toThrow(/runs backwards/);
    expect(() => parsePorts("http")).toThrow(/not a port list/);
  });

  it("grant ip items: *, ports alone, proto:ports, names in any case or numbers", () => {
    expect(parseIpSpec("*")).toEqual({ protos: null, ports: [{ first: 0, last: 65535 }] });
    expect(parseIpSpec("9100")).toEqual({ protos: null, ports: [{ first: 9100, last: 9100 }] });
    expect(parseIpSpec("UDP:161")).toEqual({ protos: [17], ports: [{ first: 161, last: 161 }] });
    expect(parseIpSpec("132:*").protos).toEqual([132]);
    expect(() => parseIpSpec("quic:443")).toThrow(/not a protocol/);
  });
});

const SEED = `{ "tagOwners": { "tag:monitor": [], "tag:scraper": [] },
  "acls": [
    { "action": "accept", "src": ["tag:scraper"], "dst": ["tag:monitor:9100"], "proto": "tcp" },
    { "action": "accept", "src": ["tag:scraper"], "dst": ["tag:monitor:161"],  "proto": "udp" },
    { "action": "accept", "src": ["tag:monitor"], "dst": ["tag:scraper:162"],  "proto": "udp" } ] }`;

function verdicts(text: string, tags = TAGS) {
  return evaluatePolicy(parsePolicy(text), tags).map((v) => v.verdict);
}

function policyError(text: string): { code: string; line: number; column: number; message: string } {
  try {
    parsePolicy(text);
  } catch (error) {
    const e = error as PolicyError;
    return { code: e.code, line: e.line, column: e.column, message: e.message };
  }
  throw new Error("parsed");
}

describe("the policy model", () => {
  it("keeps each entry's index and line and the legacy field names", () => {
    const p = parsePolicy(SEED);
    expect(p.acls.map((a) => [a.index, a.line])).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(p.acls[0].dst[0]).toMatchObject({ target: "tag:monitor", ports: [{ first: 9100, last: 9100 }] });
    expect(parsePolicy('{"tagOwners": {"tag:a": []}, "acls": [{"action": "accept", "users": ["*"], "ports": ["tag:a:22"]}]}').acls[0].src[0].value).toBe("*");
  });

  it("refuses what the control plane refuses, naming line and column", () => {
    expect(policyError('{"acls": [{"action": "accept", "src": ["group:ops"], "dst": ["*:*"]}]}')).toMatchObject({ code: "undefined-name", line: 1, column: 40 });
    expect(policyError('{"acls": [{"action": "accept", "src": ["*"], "dst": ["nas:22"]}]}').message).toContain('"nas", which is not a tag, group, autogroup');
    expect(policyError('{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"], "prot": "tcp"}]}')).toMatchObject({ code: "shape", message: expect.stringContaining('unknown key "prot" in acls[0]') });
    expect(policyError('{"acls": [{"action": "accept", "src": ["*"], "src": ["*"], "dst": ["*:*"]}]}').message).toContain('"src" is given twice');
    expect(policyError('{"grants": [{"src": ["*"], "dst": ["*"]}]}').message).toContain('needs "ip" and/or "app"');
    expect(policyError('{"acls": [{"action": "accept", "src": ["*"], "dst": ["tag-monitor"]}]}').message).toContain("is not target:ports");
    expect(policyError('{"tagOwners": {"tag:monitor": []}, "acls": [{"action": "accept", "src": ["*"], "dst": ["tag:monitor"]}]}').message).toContain('"tag:monitor" has no :ports');
    expect(policyError('{"hosts": {"nas": "nas.example.com"}}')).toMatchObject({ code: "bad-value", line: 1, column: 19 });
    expect(policyError("[]").message).toContain("a tailnet policy must be an object, not a list");
    expect(policyError('{"acls": [], "acls": []}').message).toContain('"acls" is given twice');
    expect(policyError('{"tagOwners": {"tag:a": [],\n "tag:a": ["x@example.com"]}}')).toMatchObject({ line: 2, column: 2, message: expect.stringContaining('"tag:a" is given twice in tagOwners') });
  });

  it("names from the file are only names: toString and __proto__ are neither hosts nor prototypes", () => {
    expect(policyError('{"acls": [{"action": "accept", "src": ["*"], "dst": ["toString:22"]}]}').code).toBe("undefined-name");
    const p = parsePolicy('{"hosts": {"__proto__": "100.64.0.0/10"}, "acls": [{"action": "accept", "src": ["__proto__"], "dst": ["*:*"]}]}');
    expect(p.hosts.__proto__.value).toBe("100.64.0.0/10");
    expect(plain(parseHujson('{"__proto__": {"x": 1}}'))).toEqual(JSON.parse('{"__proto__": {"x": 1}}'));
  });

  it("an unknown section is a warning beside known ones, an error alone", () => {
    expect(parsePolicy('{"acls": [], "acl": []}').warnings).toEqual(['line 1: "acl" is not a policy section edge-agent knows; ignored (a typo?)']);
    expect(policyError('{"acl": []}').message).toContain("no policy section here");
  });
});

describe("offline verdicts", () => {
  it("the seed admits all three flows, each decided by its own entry", () => {
    const v = evaluatePolicy(parsePolicy(SEED), TAGS);
    expect(v.map((f) => [f.id, f.verdict, f.entry?.line])).toEqual([
      ["scrape-node-exporter", "accept", 3],
      ["poll-snmpd", "accept", 4],
      ["notify-scraper", "accept", 5],
    ]);
    expect(v[0].decidedBy).toBe('acls[0] line 3: {"action": "accept", "src": ["tag:scraper"], "dst": ["tag:monitor:9100"], "proto": "tcp"}');
  });

  it("an empty policy denies everything; allow-all admits everything", () => {
    expect(verdicts("{}")).toEqual(["drop", "drop", "drop"]);
    expect(verdicts('{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]}')).toEqual(["accept", "accept", "accept"]);
  });

  it("the first entry in the file decides, acls and grants mixed", () => {
    const text = `{"tagOwners": {"tag:monitor": [], "tag:scraper": []},
      "grants": [{"src": ["tag:scraper"], "dst": ["tag:monitor"], "ip": ["tcp:9100"]}],
      "acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]}`;
    const v = evaluatePolicy(parsePolicy(text), TAGS);
    expect(v.map((f) => f.entry?.section)).toEqual(["grants", "acls", "acls"]);
  });

  it("users, members, self and internet never name a tagged device; tagged and danger-all do", () => {
    const with_ = (src: string) => verdicts(`{"tagOwners": {"tag:monitor": [], "tag:scraper": []}, "groups": {"group:a": ["a@example.com"]}, "acls": [{"action": "accept", "src": ["${src}"], "dst": ["tag:monitor:*"]}]}`)[0];
    for (const src of ["a@example.com", "group:a", "autogroup:member", "autogroup:self", "autogroup:internet", "autogroup:admin"]) expect(with_(src), src).toBe("drop");
    for (const src of ["*", "autogroup:tagged", "autogroup:danger-all", "tag:scraper"]) expect(with_(src), src).toBe("accept");
  });

  it("addresses: both Tailscale ranges accept, one family or one address is unknown, others drop", () => {
    const src = (list: string) => verdicts(`{"tagOwners": {"tag:monitor": [], "tag:scraper": []}, "acls": [{"action": "accept", "src": [${list}], "dst": ["tag:monitor:*"]}]}`)[0];
    expect(src('"100.64.0.0/10", "fd7a:115c:a1e0::/48"')).toBe("accept");
    expect(src('"0.0.0.0/0", "::/0"')).toBe("accept");
    expect(src('"100.64.0.0/10"')).toBe("unknown");
    expect(src('"100.100.1.1-100.100.1.9"')).toBe("unknown");
    expect(src('"192.168.0.0/16"')).toBe("drop");
    expect(src('"ipset:x"')).toBe("unknown");
  });

  it("a grant with via or a posture is unknown; defaultSrcPosture reaches entries without their own", () => {
    const base = `"tagOwners": {"tag:monitor": [], "tag:scraper": []}`;
    expect(verdicts(`{${base}, "grants": [{"src": ["tag:scraper"], "dst": ["tag:monitor"], "ip": ["*"], "via": ["tag:router"]}]}`)[0]).toBe("unknown");
    expect(verdicts(`{${base}, "defaultSrcPosture": ["posture:x"], "acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]}`)).toEqual(["unknown", "unknown", "unknown"]);
    expect(verdicts(`{${base}, "defaultSrcPosture": ["posture:x"], "acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"], "srcPosture": []}]}`)).toEqual(["accept", "accept", "accept"]);
  });

  it("a protocol other than the flow's, or ICMP only, does not admit it", () => {
    const proto = (p: string) => verdicts(`{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"], "proto": "${p}"}]}`);
    expect(proto("icmp")).toEqual(["drop", "drop", "drop"]);
    expect(proto("udp")).toEqual(["drop", "accept", "accept"]);
    expect(proto("6")).toEqual(["accept", "drop", "drop"]);
  });

  it("the fix is written in the syntax the file uses", () => {
    const acls = evaluatePolicy(parsePolicy("{}"), TAGS)[1];
    expect(acls.fix).toBe('{"action": "accept", "src": ["tag:scraper"], "dst": ["tag:monitor:161"], "proto": "udp"}');
    const grants = evaluatePolicy(parsePolicy('{"grants": []}'), TAGS)[2];
    expect(grants.fix).toBe('{"src": ["tag:monitor"], "dst": ["tag:scraper"], "ip": ["udp:162"]}');
    expect(evaluatePolicy(parsePolicy(SEED), TAGS).every((v) => v.fix === undefined)).toBe(true);
  });

  it("guard tests mark the ones the file already has (proto taken from the test)", () => {
    const text = `{"tests": [{"src": "tag:scraper", "proto": "udp", "accept": ["tag:monitor:161"]}, {"src": "tag:monitor", "accept": ["tag:scraper:162"]}]}`;
    expect(guardTests(parsePolicy(text), TAGS).map((t) => [t.flow, t.presentAt])).toEqual([
      ["scrape-node-exporter", null],
      ["poll-snmpd", 1],
      ["notify-scraper", null],
    ]);
  });
});
