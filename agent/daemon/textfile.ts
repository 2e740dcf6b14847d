// Writes the metrics text into node-exporter's textfile directory, atomically: a temp file in the
// same directory (so rename stays on one filesystem), mode 0644 whatever the umask (node-exporter
// runs as another user), then rename over edge_agent.prom. The temp name does not end in .prom,
// so node-exporter never reads a half-written file. A failure is reported once per distinct
// problem; the caller retries on every cycle and hears when it works again.
import { chmod, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log";

export const TEXTFILE_NAME = "edge_agent.prom";

export class TextfileWriter {
  private lastProblem: string | null = null;

  constructor(
    private directory: string,
    private readonly logger: Logger,
  ) {}

  get path(): string {
    return join(this.directory, TEXTFILE_NAME);
  }

  setDirectory(directory: string): void {
    if (directory === this.directory) return;
    this.directory = directory;
    this.lastProblem = null;
  }

  /** Writes `text`; never throws. Returns whether the file now holds it. */
  async write(text: string): Promise<boolean> {
    const target = this.path;
    const temp = join(this.directory, `.${TEXTFILE_NAME}.${process.pid}.tmp`);
    try {
      await writeFile(temp, text, { mode: 0o644 });
      await chmod(temp, 0o644);
      await rename(temp, target);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      const e = error as NodeJS.ErrnoException;
      const problem = `${e.code ?? "error"} ${e.message}`;
      if (problem !== this.lastProblem) {
        this.lastProblem = problem;
        this.logger.error({ path: target, error: e.message }, `cannot write the textfile metrics ${target}: ${explain(e, this.directory)}; retrying every cycle`);
      }
      return false;
    }
    if (this.lastProblem !== null) {
      this.lastProblem = null;
      this.logger.info({ path: target }, `textfile metrics written again to ${target}`);
    }
    return true;
  }
}

function explain(error: NodeJS.ErrnoException, directory: string): string {
  switch (error.code) {
    case "ENOENT":
      return `the directory ${directory} does not exist (install prometheus-node-exporter, or set textfile.directory)`;
    case "EACCES":
    case "EPERM":
      return `no permission to write in ${directory} (the agent's user needs write access to it)`;
    case "EROFS":
      return `${directory} is on a read-only filesystem`;
    case "ENOSPC":
      return `no space left on the device holding ${directory}`;
    default:
      return error.message;
  }
}
