// Keeps FleetState on disk (receiver.state) so a restart does not forget the fleet: loaded at
// start, saved atomically at most once per debounce period after a change, and on shutdown.
import { readFileSync, renameSync } from "node:fs";
import type { Logger } from "../log";
import { writeFileAtomic } from "./atomic-write";
import type { FleetState } from "./fleet-state";

export class FleetStore {
  private timer: NodeJS.Timeout | null = null;
  private savedGeneration = -1;
  writes = 0;
  failures = 0;

  constructor(
    private path: string,
    private readonly fleet: FleetState,
    private readonly log: Logger,
    private readonly debounceMs = 2000,
  ) {}

  setPath(path: string): void {
    if (path !== this.path) {
      this.path = path;
      this.savedGeneration = -1;
    }
  }

  /** Loads the saved fleet; a missing file is a first start, an unreadable one is set aside. */
  load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        this.log.info({ path: this.path }, "no saved fleet state; starting empty");
        return;
      }
      this.log.error({ path: this.path, err: (error as Error).message }, "cannot read the saved fleet state; starting empty");
      return;
    }
    try {
      const skipped = this.fleet.restore(JSON.parse(text));
      this.savedGeneration = this.fleet.generation;
      this.log.info({ path: this.path, nodes: this.fleet.nodes.size, skipped }, "fleet state loaded");
    } catch (error) {
      const aside = `${this.path}.corrupt-${Date.now()}`;
      try {
        renameSync(this.path, aside);
      } catch {
        /* keep going: the next save replaces it */
      }
      this.log.error({ path: this.path, movedTo: aside, err: (error as Error).message }, "saved fleet state is not usable; moved aside, starting empty");
    }
  }

  /** Call after changes; the save happens once the debounce period passes. */
  changed(): void {
    if (this.timer || this.fleet.generation === this.savedGeneration) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.save();
    }, this.debounceMs);
    this.timer.unref();
  }

  save(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.fleet.generation === this.savedGeneration) return;
    try {
      const generation = this.fleet.generation;
      writeFileAtomic(this.path, JSON.stringify(this.fleet.toJSON()), 0o640);
      this.savedGeneration = generation;
      this.writes++;
    } catch (error) {
      this.failures++;
      this.log.error({ path: this.path, err: (error as Error).message }, "cannot save the fleet state (check that the directory exists and is writable)");
    }
  }
}
