// The error every config problem becomes: it names the file, the key and what was expected (and
// the line, when the config came from a file), and the CLI turns it into exit 2. One error
// carries every problem the loader found, so a config with three mistakes is fixed in one edit.
// Its own file so the CLI can recognise it without loading the YAML parser and the schema for
// commands that never read a config (--version, --help, mib).

/**
 * What kind of problem, for verdicts (doctor's fix); the text only explains.
 * missing: no file at an explicit path; unreadable: open/read failed; not-a-file: a directory,
 * FIFO or device; too-large: over the size cap; yaml: not valid YAML; invalid: a key's value.
 */
export type ConfigProblemCode = "missing" | "unreadable" | "not-a-file" | "too-large" | "yaml" | "invalid";

export interface ConfigProblem {
  /** The key path (probes.snmpd.port), "(file)" for the file itself, or "line L, column C" for YAML syntax. */
  key: string;
  problem: string;
  /** 1-based line of the key in the file; null when not known (a config built in code). */
  line: number | null;
  code: ConfigProblemCode;
}

/** Enough to fix in one edit; more would scroll the first off the screen. */
export const MAX_REPORTED = 20;

function problemText(file: string | null, p: ConfigProblem): string {
  const where = file ?? "config";
  if (p.key === "(file)") return `${where}: ${p.problem}`;
  const line = p.line !== null && p.code === "invalid" ? ` (line ${p.line})` : "";
  return `${where}: ${p.key}: ${p.problem}${line}`;
}

/** A config problem, or several; the CLI prints one line per problem and exits 2. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  readonly line: number | null;
  readonly code: ConfigProblemCode;

  constructor(
    readonly file: string | null,
    readonly key: string,
    readonly problem: string,
    options: { line?: number | null; code?: ConfigProblemCode; more?: readonly ConfigProblem[] } = {},
  ) {
    const first: ConfigProblem = { key, problem, line: options.line ?? null, code: options.code ?? "invalid" };
    const problems = [first, ...(options.more ?? [])];
    super(problems.map((p) => problemText(file, p)).join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
    this.line = first.line;
    this.code = first.code;
  }

  /** Every problem on one line, for a single finding (doctor) or a log field. */
  get oneLine(): string {
    return this.message.split("\n").join("; ");
  }

  /**
   * One error for a non-empty list of problems, in the order found. Identical ones are told
   * once and at most MAX_REPORTED are told at all (a broken YAML file or a list of thousands
   * of bad entries must not bury the first, real mistake), then how many more there were.
   */
  static of(file: string | null, problems: readonly ConfigProblem[]): ConfigError {
    const seen = new Set<string>();
    const unique = problems.filter((p) => !seen.has(`${p.key}\0${p.problem}`) && seen.add(`${p.key}\0${p.problem}`));
    const [first, ...more] = unique.slice(0, MAX_REPORTED);
    const untold = unique.length - MAX_REPORTED;
    if (untold > 0) more.push({ key: "(file)", problem: `... and ${untold} more ${untold === 1 ? "problem" : "problems"}`, line: null, code: first.code });
    return new ConfigError(file, first.key, first.problem, { line: first.line, code: first.code, more });
  }
}
