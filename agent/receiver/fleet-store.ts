// Keeps FleetState on disk (receiver.state) so a restart does not forget the fleet: loaded at
// start, saved atomically at most once per debounce period after a change, and on shutdown.
// The period grows with the fleet (savePeriodMs): a large fleet changes every second, and a
// whole-file save each 2 s of 100,000 nodes (25 MB) would be ~1 TB of writes a day; what a crash
// loses in between (the latest heartbeats) the nodes' next heartbeats bring back.
// The debounced saves are written in pieces of a few thousand nodes with asynchronous I/O, so a
// large fleet's save (tens of megabytes, and an fsync) never holds up the event loop, and with
// it the sockets, for more than a few milliseconds; the final save at shutdown is synchronous.
import { close, fsync, open, readFileSync, rename, renameSync, rm, write } from "node:fs";
import { promisify } from "node:util";
import type { Logger } from "../log";
import { tempPathFor, writeFileAtomic } from "./atomic-write";
import { FleetFileWriter, fleetFileBytes, type FileWriter } from "./fleet-file";
import type { FleetState, NodeRecord } from "./fleet-state";

const SAVE_MS_PER_NODE = 0.6;
const MAX_SAVE_PERIOD_MS = 60_000;

/**
 * How long to wait after a change before saving: the configured debounce, or 0.6 ms per node
 * (60 s at 100,000 nodes, 6 s at 10,000) when that is longer, so the file is rewritten at most
 * about 0.4 MB/s whatever the fleet's size.
 */
export function savePeriodMs(debounceMs: number, nodes: number): number {
  return Math.min(Math.max(debounceMs, nodes * SAVE_MS_PER_NODE), MAX_SAVE_PERIOD_MS);
}

/** Nodes serialized per piece: ~0.25 MB, about 1.5 ms of work (receiver-state.ts bench). */
const NODES_PER_PIECE = 1000;

const openAsync = promisify(open);
const writeAsync = promisify(write) as (fd: number, data: Buffer, offset: number, length: number) => Promise<{ bytesWritten: number }>;
const fsyncAsync = promisify(fsync);
const closeAsync = promisify(close);
const renameAsync = promisify(rename);
const rmAsync = promisify(rm);

export class FleetStore {
  private timer: NodeJS.Timeout | null = null;
  private savedGeneration = -1;
  private saving: Promise<void> | null = null;
  writes = 0;
  failures = 0;
  /** How long the last save took (wall time, ms), for the receiver's metrics. */
  lastSaveMs = 0;

  constructor(
    private path: string,
    private readonly fleet: FleetState,
    private readonly log: Logger,
    private readonly debounceMs = 2000,
    /** The file's format (scripts/bench/receiver-state.ts compares the previous one's). */
    private readonly newWriter: () => FileWriter = () => new FleetFileWriter(),
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
    if (this.timer || this.saving || this.fleet.generation === this.savedGeneration) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.saving = this.saveInPieces().finally(() => {
        this.saving = null;
        // Changes that came in while it was written get their own save.
        this.changed();
      });
    }, savePeriodMs(this.debounceMs, this.fleet.nodes.size));
    this.timer.unref();
  }

  /** Waits for a save in progress, then saves synchronously what is not saved yet (at shutdown). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.saving) await this.saving;
    this.save();
  }

  /** Saves now, synchronously, unless nothing changed since the last save. */
  save(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.fleet.generation === this.savedGeneration) return;
    const start = Date.now();
    try {
      const generation = this.fleet.generation;
      writeFileAtomic(this.path, fleetFileBytes(this.fleet.nodes.values(), this.newWriter()), 0o640);
      this.saved(generation, start);
    } catch (error) {
      this.failed(error as Error);
    }
  }

  private saved(generation: number, startMs: number): void {
    this.savedGeneration = generation;
    this.writes++;
    this.lastSaveMs = Date.now() - startMs;
  }

  private failed(error: Error): void {
    this.failures++;
    this.log.error({ path: this.path, err: error.message }, "cannot save the fleet state (check that the directory exists and is writable)");
  }

  /** The same file as save() writes, built and written a piece at a time. */
  private async saveInPieces(): Promise<void> {
    if (this.fleet.generation === this.savedGeneration) return;
    const start = Date.now();
    const generation = this.fleet.generation;
    const path = this.path;
    const { tmp, dir } = tempPathFor(path);
    let fd: number | null = null;
    try {
      fd = await openAsync(tmp, "w", 0o640);
      const writer = this.newWriter();
      // A record changed or added while earlier pieces were written is saved as it is when its
      // piece is built (a Map iterator sees entries added later); the generation taken at the
      // start makes the next save catch up on anything it missed.
      let inPiece = 0;
      for (const record of this.fleet.nodes.values() as IterableIterator<NodeRecord>) {
        writer.record(record);
        if (++inPiece >= NODES_PER_PIECE) {
          inPiece = 0;
          await writeAll(fd, writer.take());
        }
      }
      writer.end();
      await writeAll(fd, writer.take());
      await fsyncAsync(fd);
      await closeAsync(fd);
      fd = null;
      await renameAsync(tmp, path);
      await syncDirectory(dir);
      this.saved(generation, start);
    } catch (error) {
      if (fd !== null) await closeAsync(fd).catch(() => undefined);
      await rmAsync(tmp, { force: true }).catch(() => undefined);
      this.failed(error as Error);
    }
  }
}

/** Writes all of `data` (a write may take less than it was given). */
async function writeAll(fd: number, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; ) at += (await writeAsync(fd, data, at, data.length - at)).bytesWritten;
}

/** Makes a rename durable; some filesystems refuse fsync on a directory, and the rename is atomic anyway. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const fd = await openAsync(dir, "r");
    await fsyncAsync(fd).catch(() => undefined);
    await closeAsync(fd);
  } catch {
    /* see above */
  }
}
