// How a refused value appears in a config error: its kind and a short quote, never the whole of
// a long value (a 5 MB scalar), and only its kind when it is a secret or a whole section that
// may hold one (`notifications: community s3cret` is a string where a mapping belongs).

const QUOTE_MAX = 60;

/** "a string", "a list", ... : all that is said about a secret or a misplaced section. */
export function kindOf(raw: unknown): string {
  if (raw === null) return "null";
  if (Array.isArray(raw)) return "a list";
  if (typeof raw === "object") return "a mapping";
  return `a ${typeof raw}`;
}

/** Text cut to QUOTE_MAX characters, saying how long it really was. */
export function quote(text: string): string {
  if (text.length <= QUOTE_MAX) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, QUOTE_MAX))}... (${text.length} characters)`;
}

/** A scalar with its type and (short) value: `string "verbose"`, `number 70000`. */
export function describe(raw: unknown, display: (value: string) => string = (v) => v): string {
  if (raw === null || typeof raw === "object") return kindOf(raw);
  if (typeof raw === "string") return `string ${quote(display(raw))}`;
  return `${typeof raw} ${String(raw)}`;
}

/** A secret is shown by its kind and length, which is all a fix needs. */
export function showSecret(raw: unknown): string {
  return typeof raw === "string" ? `a string of ${raw.length} characters` : kindOf(raw);
}

/** A key as written in the file, quoted when it is long or holds odd characters. */
export function keyName(name: string): string {
  return /^[A-Za-z0-9_-]{1,64}$/.test(name) ? name : quote(name);
}
