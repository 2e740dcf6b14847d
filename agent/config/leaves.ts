// The scalar kinds of the config schema (strings, whole numbers, switches, choices, durations),
// each with its conversion, its default and its JSON Schema fragment.
import { Invalid, leaf, type Leaf, type Show } from "./nodes";

/**
 * Checks (and may normalise) a string of the right type. Throws Invalid("expected ...") without
 * the value: the leaf adds it, shown as the key allows (cut short, or not at all for a secret).
 */
export type Check = ((value: string) => string) & { pattern?: RegExp };

function stringOf(raw: unknown, show: Show): string {
  if (typeof raw === "string") return raw;
  const hint = typeof raw === "number" || typeof raw === "boolean" ? " (quote it in YAML)" : "";
  throw new Invalid(`expected a string, got ${show(raw)}${hint}`);
}

function checked(value: string, check: Check | undefined, show: Show): string {
  if (!check) return value;
  try {
    return check(value);
  } catch (error) {
    if (error instanceof Invalid) throw new Invalid(`${error.message}, got ${show(value)}`);
    throw error;
  }
}

export const str = (def: string, check?: Check, display?: (value: string) => string): Leaf<string> =>
  leaf(def, { type: "string", ...(check?.pattern && { pattern: check.pattern.source }), default: def }, (raw, show) => checked(stringOf(raw, show), check, show), { display });

/** null or "" give null. */
export const nullableStr = (check?: Check): Leaf<string | null> =>
  leaf(null, { type: ["string", "null"], ...(check?.pattern && { pattern: `^$|${check.pattern.source}` }), default: null }, (raw, show) =>
    raw === null || raw === "" ? null : checked(stringOf(raw, show), check, show),
  );

/** Communities and keys: never echoed in an error, only their kind and length. */
export const secretStr = (def: string, check?: Check): Leaf<string> => ({ ...str(def, check), secret: true });

export const nullableSecret = (check?: Check): Leaf<string | null> => ({ ...nullableStr(check), secret: true });

export const bool = (def: boolean): Leaf<boolean> =>
  leaf(def, { type: "boolean", default: def }, (raw, show) => {
    if (typeof raw !== "boolean") throw new Invalid(`expected true or false, got ${show(raw)}`);
    return raw;
  });

export const int = (def: number, min: number, max: number): Leaf<number> =>
  leaf(def, { type: "integer", minimum: min, maximum: max, default: def }, (raw, show) => {
    if (typeof raw !== "number" || !Number.isInteger(raw) || raw < min || raw > max)
      throw new Invalid(`expected a whole number from ${min} to ${max}, got ${show(raw)}`);
    return raw;
  });

/** One of a few words; a number is read as its text (YAML reads `version: 3` as a number). */
export const oneOf = <const T extends string>(def: T, values: readonly T[]): Leaf<T> => {
  const numeric = values.filter((v) => /^\d+$/.test(v)).map(Number);
  return leaf(def, { enum: [...values, ...numeric], default: def }, (raw, show) => {
    const value = typeof raw === "number" ? String(raw) : raw;
    if (typeof value !== "string" || !values.includes(value as T)) throw new Invalid(`expected one of ${values.join(", ")}, got ${show(raw)}`);
    return value as T;
  });
};

// ---- durations ----------------------------------------------------------------------------
// Prometheus style: 500ms, 30s, 5m, 1h; a bare number is seconds. Every duration has a range:
// what reaches a timer must fit Node's 32-bit timers (24.8 days) and must not be zero.

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** Milliseconds as the shortest exact duration text: 100ms, 30s, 5m, 24h. */
function formatDuration(ms: number): string {
  for (const unit of ["h", "m", "s"] as const) if (ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`;
  return `${ms}ms`;
}

/** A duration in milliseconds, refused outside [minMs, maxMs]. */
function parseDuration(raw: unknown, minMs: number, maxMs: number, show: Show): number {
  const range = `from ${formatDuration(minMs)} to ${formatDuration(maxMs)}`;
  let ms = NaN;
  if (typeof raw === "number") ms = Math.round(raw * 1000);
  else if (typeof raw === "string") {
    const match = DURATION.exec(raw.trim());
    if (match) ms = Math.round(Number(match[1]) * UNITS[match[2] as keyof typeof UNITS]);
  }
  if (!Number.isFinite(ms) || ms < minMs || ms > maxMs) throw new Invalid(`expected a duration ${range} (like 500ms, 30s, 5m or 1h; a bare number is seconds), got ${show(raw)}`);
  return ms;
}

export const duration = (def: string, minMs: number, maxMs: number): Leaf<number, "Ms"> => ({
  ...leaf(def, durationJson(def, minMs, maxMs), (raw, show) => parseDuration(raw, minMs, maxMs, show)),
  suffix: "Ms",
});

function durationJson(def: string, minMs: number, maxMs: number) {
  return {
    description: `A duration from ${formatDuration(minMs)} to ${formatDuration(maxMs)}: 500ms, 30s, 5m, 1h, or a number of seconds.`,
    anyOf: [
      { type: "string", pattern: DURATION.source },
      { type: "number", minimum: minMs / 1000, maximum: maxMs / 1000 },
    ],
    default: def,
  };
}
