// `edge-agent policy check FILE`: the monitoring flows a tailnet policy file admits, each with the
// entry that decides it; `--tests` prints the policy tests that keep them admitted.
import { readFileSync, statSync } from "node:fs";
import { UsageError } from "../cli";
import { evaluatePolicy, type RoleTags } from "../policy/policy-evaluate";
import { parsePolicy, PolicyError, type Policy } from "../policy/policy-file";
import { guardTests, renderGuardTests } from "../policy/policy-tests";
import { renderPolicyCheck } from "../policy/render-policy-check";

type Values = Record<string, string | boolean | string[] | undefined>;

/** A policy file is a few hundred kB at most; this keeps a wrong path (a disk image) cheap. */
const MAX_POLICY_BYTES = 16 * 1024 * 1024;

/** A file that is not a policy: exit 2 with where it goes wrong, without the usage text. */
class NotAPolicy extends Error {}

function readPolicy(path: string): Policy {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_POLICY_BYTES) throw new UsageError(`${path} is ${size} bytes, more than a policy file can be (${MAX_POLICY_BYTES})`);
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read policy ${path}: ${(error as Error).message}`);
  }
  try {
    return parsePolicy(text);
  } catch (error) {
    if (error instanceof PolicyError) throw new NotAPolicy(`${path}: ${error.message}`);
    throw error;
  }
}

function tag(value: string | boolean | string[] | undefined, flag: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !/^tag:[A-Za-z0-9][A-Za-z0-9_-]*$/.test(value)) throw new UsageError(`--${flag} must be a tag such as ${fallback}, got "${String(value)}"`);
  return value;
}

export async function policyCommand(values: Values, positionals: string[]): Promise<number> {
  const [sub, file, ...extra] = positionals;
  if (sub !== "check") throw new UsageError(sub === undefined ? "say check" : `unknown sub-command "${sub}" (check)`);
  if (file === undefined) throw new UsageError("give the policy file: edge-agent policy check FILE");
  if (extra.length) throw new UsageError(`unexpected ${extra.join(" ")}`);
  const tags: RoleTags = { scraper: tag(values["scraper-tag"], "scraper-tag", "tag:scraper"), node: tag(values["node-tag"], "node-tag", "tag:monitor") };
  if (tags.scraper === tags.node) throw new UsageError(`--scraper-tag and --node-tag are both ${tags.scraper}; give the two roles different tags`);
  let policy: Policy;
  try {
    policy = readPolicy(file);
  } catch (error) {
    if (!(error instanceof NotAPolicy)) throw error;
    process.stderr.write(`edge-agent policy: ${error.message}\n`);
    return 2;
  }
  const verdicts = evaluatePolicy(policy, tags);
  const warnings = [...policy.warnings];
  for (const t of [tags.scraper, tags.node]) if (!(t in policy.tagOwners)) warnings.push(`${t} is not in tagOwners: no device can be given it under this policy`);
  const tests = values.tests ? guardTests(policy, tags) : null;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ file, scraperTag: tags.scraper, nodeTag: tags.node, flows: verdicts, warnings, ...(tests ? { tests } : {}) }, null, 2)}\n`);
  } else if (tests) {
    process.stdout.write(renderGuardTests(tests, file));
    const failing = verdicts.filter((v) => v.verdict !== "accept").map((v) => v.id);
    if (failing.length) process.stderr.write(`note: ${file} does not admit ${failing.join(", ")} now: the control plane refuses the file with these tests until it does (edge-agent policy check ${file})\n`);
  } else {
    process.stdout.write(renderPolicyCheck(file, tags, verdicts, warnings));
  }
  if (verdicts.some((v) => v.verdict === "drop")) return 1;
  return verdicts.some((v) => v.verdict === "unknown") ? 3 : 0;
}
