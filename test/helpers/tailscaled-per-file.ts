// One LocalAPI test server for a whole test file, apart from tailscaled.ts because that one is
// also loaded outside vitest (the netns lab, the benchmarks), where vitest's hooks do not exist.
import { afterAll, afterEach, beforeAll } from "vitest";
import { defaultScenario, startFakeTailscaled, type FakeTailscaled } from "./tailscaled";

/** Started before the file's tests, back to the default scenario with no requests after each, stopped after the last. */
export function useFakeTailscaled(): () => FakeTailscaled {
  let ts: FakeTailscaled | undefined;
  beforeAll(async () => {
    ts = await startFakeTailscaled();
  });
  afterAll(() => ts?.stop());
  afterEach(() => {
    if (!ts) return;
    ts.scenario = defaultScenario();
    ts.requests.length = 0;
  });
  return () => ts!;
}
