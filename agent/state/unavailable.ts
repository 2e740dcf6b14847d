// A part of NodeState whose source could not be read: failure as data, never a throw. The code
// decides (doctor's verdict and fix, what an output shows); the text only explains it to a person,
// so rewording a message never changes a verdict.

export interface Unavailable<Code extends string = string> {
  state: "unavailable";
  code: Code;
  error: string;
}

/** The failures every probe can have: its deadline passed, or it threw something unforeseen. */
export const PROBE_FAILURES = ["timeout", "probe-error"] as const;
export type ProbeFailure = (typeof PROBE_FAILURES)[number];

export function isAvailable<T extends object>(part: T | Unavailable): part is T {
  return (part as Unavailable).state !== "unavailable";
}
