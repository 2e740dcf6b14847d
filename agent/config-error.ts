// The error every config problem becomes: it names the file, the key and what was expected, and
// the CLI turns it into exit 2. Its own file so the CLI can recognise it without loading the
// YAML parser and the schema for commands that never read a config (--version, --help, mib).
/** A config problem; the CLI prints `message` and exits 2. */
export class ConfigError extends Error {
  constructor(
    readonly file: string | null,
    readonly key: string,
    readonly problem: string,
  ) {
    super(key === "(file)" ? `${file ?? "config"}: ${problem}` : `${file ?? "config"}: ${key}: ${problem}`);
    this.name = "ConfigError";
  }
}
