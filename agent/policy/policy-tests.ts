// The policy `tests` entries that guard monitoring: the control plane runs a policy's tests on
// every save and refuses an edit that fails one, so with these in the file nobody can drop a
// monitoring flow by accident. Each is marked when the file already has an equivalent test.
import { FLOWS, type FlowId } from "./flows";
import type { Policy } from "./policy-file";
import type { RoleTags } from "./policy-evaluate";

export interface GuardTest {
  flow: FlowId;
  /** The entry as the policy's `tests` section takes it. */
  test: { src: string; proto: "tcp" | "udp"; accept: string[] };
  /** The line of an existing test that already asserts the same, or null. */
  presentAt: number | null;
}

export function guardTests(policy: Policy, tags: RoleTags): GuardTest[] {
  return FLOWS.map((flow) => {
    const proto = flow.proto === 6 ? "tcp" : "udp";
    const target = `${tags[flow.to]}:${flow.port}`;
    const test = { src: tags[flow.from], proto, accept: [target] } as GuardTest["test"];
    // A test without proto is taken as TCP, so it only counts for the TCP flow.
    const present = policy.tests.find((t) => t.src === test.src && (t.proto ?? "tcp").toLowerCase() === proto && t.accept.includes(target));
    return { flow: flow.id, test, presentAt: present ? present.line : null };
  });
}

/** The entries as HuJSON to paste into the policy's `tests` list, one per line. */
export function renderGuardTests(tests: GuardTest[], file: string): string {
  const lines = [
    `// Add to "tests" in ${file}: the control plane then refuses any edit that breaks monitoring.`,
    `"tests": [`,
    ...tests.map((t) => `  ${JSON.stringify(t.test).replace(/,"/g, ', "').replace(/":/g, '": ')}, // ${t.flow}${t.presentAt ? ` (already at line ${t.presentAt})` : ""}`),
    `],`,
  ];
  return `${lines.join("\n")}\n`;
}
