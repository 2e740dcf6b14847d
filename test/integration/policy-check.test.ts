// `edge-agent policy check` as shipped (the launcher in a child process) on the policy files in
// test/fixtures/policy/: the seed of DESIGN.md passes, each broken variant fails naming the flow
// it loses, and files that are not policies exit 2 naming line and column.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runAgent, type CliRun } from "../helpers/cli";

const DIR = join(__dirname, "..", "fixtures", "policy");
type V = "accept" | "drop" | "unknown";
type Flows = [V, V, V]; // scrape-node-exporter, poll-snmpd, notify-scraper

const ALL: Flows = ["accept", "accept", "accept"];
const CASES: Record<string, { flows?: Flows; code: number; args?: string[]; says?: RegExp[] }> = {
  "seed.hujson": { flows: ALL, code: 0, says: [/acls\[0\] line 5/, /acls\[2\] line 7/] },
  "seed-missing-scrape.hujson": { flows: ["drop", "accept", "accept"], code: 1, says: [/not admitted: scrape-node-exporter$/m, /add to "acls": \{"action": "accept", "src": \["tag:scraper"\], "dst": \["tag:monitor:9100"\], "proto": "tcp"\}/] },
  "seed-missing-snmp.hujson": { flows: ["accept", "drop", "accept"], code: 1, says: [/not admitted: poll-snmpd$/m] },
  "seed-missing-notify.hujson": { flows: ["accept", "accept", "drop"], code: 1, says: [/not admitted: notify-scraper$/m] },
  "seed-wrong-port-scrape.hujson": { flows: ["drop", "accept", "accept"], code: 1, says: [/near miss: acls\[0\] line 5 lets tag:scraper reach tag:monitor but not tcp\/9100 \(proto tcp to tag:monitor:9101\)/] },
  "seed-wrong-port-notify.hujson": { flows: ["accept", "accept", "drop"], code: 1, says: [/tag:scraper:163/] },
  "seed-wrong-proto-snmp.hujson": { flows: ["accept", "drop", "accept"], code: 1, says: [/near miss: acls\[1\] line 6 lets tag:scraper reach tag:monitor but not udp\/161 \(proto tcp to tag:monitor:161\)/] },
  "seed-wrong-proto-notify.hujson": { flows: ["accept", "accept", "drop"], code: 1, says: [/not admitted: notify-scraper$/m] },
  "seed-wrong-src-scrape.hujson": { flows: ["drop", "accept", "accept"], code: 1, says: [/admits tcp\/9100 to tag:monitor, but not from tag:scraper/] },
  "grants.hujson": { flows: ALL, code: 0, says: [/grants\[0\] line 8/] },
  "grants-ip-star.hujson": { flows: ALL, code: 0 },
  "grants-missing-notify.hujson": { flows: ["accept", "accept", "drop"], code: 1, says: [/add to "grants": \{"src": \["tag:monitor"\], "dst": \["tag:scraper"\], "ip": \["udp:162"\]\}/] },
  "grants-wrong-proto-snmp.hujson": { flows: ["accept", "drop", "accept"], code: 1 },
  "grants-app-only.hujson": { flows: ["drop", "drop", "accept"], code: 1, says: [/no ip \(app only\)/] },
  "allow-all.hujson": { flows: ALL, code: 0, says: [/warning: tag:scraper is not in tagOwners/] },
  "acls-no-proto.hujson": { flows: ALL, code: 0 },
  "port-ranges.hujson": { flows: ALL, code: 0 },
  "autogroup-tagged.hujson": { flows: ALL, code: 0 },
  "autogroup-member.hujson": { flows: ["drop", "drop", "accept"], code: 1 },
  "groups.hujson": { flows: ["drop", "drop", "accept"], code: 1 },
  "hosts-tailnet-ranges.hujson": { flows: ALL, code: 0 },
  "hosts-single-address.hujson": { flows: ["unknown", "accept", "accept"], code: 3, says: [/only if tag:scraper's address is in prometheus \(100\.64\.0\.1\)/] },
  "posture.hujson": { flows: ["unknown", "unknown", "accept"], code: 3, says: [/only if the source meets the posture posture:latest/] },
  "legacy-keys.hujson": { flows: ALL, code: 0 },
  "custom-tags.hujson": { flows: ALL, code: 0, args: ["--scraper-tag", "tag:prometheus", "--node-tag", "tag:server"] },
  "with-tests.hujson": { flows: ALL, code: 0 },
  "comments-and-commas.hujson": { flows: ALL, code: 0, says: [/acls\[1\] line 14/] },
  "bad-missing-comma.hujson": { code: 2, says: [/bad-missing-comma\.hujson: line 3 column 3: not HuJSON: expected , or \} after the value of "tagOwners"/] },
  "bad-unterminated-string.hujson": { code: 2, says: [/line 3 column 48: not HuJSON: a string runs past the end of its line/] },
  "bad-undefined-tag.hujson": { code: 2, says: [/line 4 column 34: acls\[0\]\.src uses tag:scraper, which tagOwners does not define/] },
  "bad-action-deny.hujson": { code: 2, says: [/line 4 column 16: acls\[0\]\.action must be "accept"/] },
  "bad-port.hujson": { code: 2, says: [/line 4 column 58: acls\[0\]\.dst\[0\]: port 91000/] },
  "bad-src-not-list.hujson": { code: 2, says: [/line 4 column 33: acls\[0\]\.src must be a list, not a string/] },
  "not-a-policy.json": { code: 2, says: [/line 2 column 3: no policy section here/] },
};

const text = new Map<string, CliRun>();
const json = new Map<string, CliRun>();

beforeAll(async () => {
  const jobs = Object.entries(CASES).flatMap(([file, c]) => [
    async () => text.set(file, await runAgent(["policy", "check", join(DIR, file), ...(c.args ?? [])])),
    async () => json.set(file, await runAgent(["policy", "check", join(DIR, file), "--json", ...(c.args ?? [])])),
  ]);
  // Two cores: a few launchers at a time.
  const workers = Array.from({ length: 3 }, async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) await job();
  });
  await Promise.all(workers);
}, 300_000);

describe("policy check on the fixtures", () => {
  it("has a case for every fixture and at least 20 of them", () => {
    expect(readdirSync(DIR).sort()).toEqual(Object.keys(CASES).sort());
    expect(Object.keys(CASES).length).toBeGreaterThanOrEqual(20);
  });

  for (const [file, c] of Object.entries(CASES)) {
    it(`${file}: exit ${c.code}`, () => {
      const t = text.get(file)!;
      const j = json.get(file)!;
      expect(t.code, t.stderr).toBe(c.code);
      expect(j.code).toBe(c.code);
      for (const re of c.says ?? []) expect(t.stdout + t.stderr).toMatch(re);
      if (c.code === 2) {
        expect(t.stdout).toBe("");
        expect(t.stderr).not.toContain("Usage:");
        return;
      }
      const doc = JSON.parse(j.stdout) as { flows: { id: string; verdict: V; decidedBy: string; entry?: { line: number } }[] };
      expect(doc.flows.map((f) => f.id)).toEqual(["scrape-node-exporter", "poll-snmpd", "notify-scraper"]);
      expect(doc.flows.map((f) => f.verdict)).toEqual(c.flows);
      for (const f of doc.flows) if (f.verdict === "accept") expect(f.decidedBy).toMatch(new RegExp(`^(acls|grants)\\[\\d+\\] line ${f.entry!.line}: \\{`));
    });
  }
});

describe("policy check --tests", () => {
  it("prints the tests that guard the three flows, marking one the file already has", async () => {
    const r = await runAgent(["policy", "check", join(DIR, "with-tests.hujson"), "--tests"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"tests": [');
    expect(r.stdout).toContain('{"src": "tag:scraper", "proto": "tcp", "accept": ["tag:monitor:9100"]}, // scrape-node-exporter (already at line 8)');
    expect(r.stdout).toContain('{"src": "tag:scraper", "proto": "udp", "accept": ["tag:monitor:161"]}, // poll-snmpd\n');
    expect(r.stdout).toContain('{"src": "tag:monitor", "proto": "udp", "accept": ["tag:scraper:162"]}, // notify-scraper\n');
  });

  it("on a file that drops a flow: the same tests, a note that the file fails them, exit 1", async () => {
    const r = await runAgent(["policy", "check", join(DIR, "seed-missing-notify.hujson"), "--tests", "--json"]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.tests.map((t: { test: unknown }) => t.test)).toEqual([
      { src: "tag:scraper", proto: "tcp", accept: ["tag:monitor:9100"] },
      { src: "tag:scraper", proto: "udp", accept: ["tag:monitor:161"] },
      { src: "tag:monitor", proto: "udp", accept: ["tag:scraper:162"] },
    ]);
    const t = await runAgent(["policy", "check", join(DIR, "seed-missing-notify.hujson"), "--tests"]);
    expect(t.stderr).toContain("does not admit notify-scraper now");
  });
});

describe("policy check usage", () => {
  it("no file, a missing file, a bad tag: exit 2", async () => {
    const none = await runAgent(["policy", "check"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("give the policy file");
    const missing = await runAgent(["policy", "check", join(DIR, "absent.hujson")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read policy .*absent\.hujson: ENOENT/);
    const badTag = await runAgent(["policy", "check", join(DIR, "seed.hujson"), "--node-tag", "monitor"]);
    expect(badTag.code).toBe(2);
    expect(badTag.stderr).toContain('--node-tag must be a tag such as tag:monitor, got "monitor"');
  });

  it("--help names the options and the exit codes", async () => {
    const r = await runAgent(["policy", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("edge-agent policy check FILE [--json] [--scraper-tag T] [--node-tag T] [--tests]");
    expect(r.stdout).toContain("1 one is dropped");
  });
});
