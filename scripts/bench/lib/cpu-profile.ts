// A V8 .cpuprofile (node --cpu-prof) as text: the functions that took the most time themselves
// (self) and with what they called (total), as a share of the time the process was not idle.
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const frameName = (n: ProfileNode): string => {
  const file = n.callFrame.url.split("/").pop() || "";
  return `${n.callFrame.functionName || "(anonymous)"}${file ? ` ${file}:${n.callFrame.lineNumber + 1}` : ""}`;
};

/** Self and total time per function name, in ms, and the busy (not idle) time they are shares of. */
export function profileTimes(path: string): { busyMs: number; self: Map<string, number>; total: Map<string, number> } {
  const p = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const sampled = new Map<number, number>();
  p.samples.forEach((id, i) => sampled.set(id, (sampled.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busyMs = 0;
  for (const [id, ms] of sampled) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === "(idle)") continue;
    busyMs += ms;
    self.set(frameName(node), (self.get(frameName(node)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = frameName(byId.get(cur)!);
      if (seen.has(name) || name === "(root)") continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + ms);
    }
  }
  return { busyMs, self, total };
}

/** The top `n` of self and total time, as lines of text. */
export function profileSummary(path: string, n = 20): string {
  const { busyMs, self, total } = profileTimes(path);
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => `${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / busyMs).toFixed(1).padStart(5)}%  ${name}`);
  return [`busy ${busyMs.toFixed(0)} ms (idle left out)`, "self:", ...top(self), "total (with callees):", ...top(total)].join("\n");
}
