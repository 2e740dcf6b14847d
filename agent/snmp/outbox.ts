// The notifier's durable queue: one JSON file per notification not yet delivered, plus a state
// file with the last sequence number and how many were dropped. Every write is a temp file,
// fsync, rename, fsync of the directory, so a crash leaves the old or the new file, never half.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { StateEvent } from "../diff";
import type { ObjectValues } from "./state-objects";

export interface OutboxEntry {
  sequence: number;
  /** ISO time the event happened; a replay keeps it. */
  at: string;
  event: StateEvent;
  /** Every object the notification carries (state, sequence, time, summary, service). */
  objects: ObjectValues;
}

/** A failed write: the errno code decides (a full disk is one problem, whichever file met it), the text explains. */
export interface OutboxWriteError {
  code: string;
  text: string;
}

function writeError(text: string, error: unknown): OutboxWriteError {
  return { code: (error as NodeJS.ErrnoException).code ?? "EUNKNOWN", text: `${text}: ${(error as Error).message}` };
}

const ENTRY = /^n-(\d{10})\.json$/;
const STATE_FILE = "state.json";
/** The sequence number is an Unsigned32 on the wire. */
const MAX_SEQUENCE = 4294967295;

function entryFile(sequence: number): string {
  return `n-${String(sequence).padStart(10, "0")}.json`;
}

export class Outbox {
  private lastSequence = 0;
  /** The sequence state.json holds; entries on disk carry any higher one. */
  private persistedSequence = 0;
  private droppedTotal = 0;
  private readonly entries = new Map<number, OutboxEntry>();

  /** Problems met while loading (unreadable entries moved aside), for the caller to log. */
  readonly problems: string[] = [];
  /** Writes that failed since the last takeWriteErrors(): the queue then lives in memory only. */
  private writeErrors: OutboxWriteError[] = [];

  constructor(
    readonly dir: string,
    readonly max: number,
  ) {}

  /** Reads what a previous run left; creates the directory on first use. */
  load(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    this.entries.clear();
    try {
      const state = JSON.parse(readFileSync(join(this.dir, STATE_FILE), "utf8")) as { lastSequence?: unknown; dropped?: unknown };
      if (typeof state.lastSequence === "number") this.lastSequence = this.persistedSequence = state.lastSequence;
      if (typeof state.dropped === "number") this.droppedTotal = state.dropped;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.problems.push(`${join(this.dir, STATE_FILE)}: ${(error as Error).message}; sequence continues from the queued entries`);
    }
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith(".tmp-")) {
        // A write a crash cut short. On a read-only outbox it stays, and the queue loads anyway.
        try {
          unlinkSync(join(this.dir, name));
        } catch (error) {
          this.problems.push(`cannot remove the interrupted write ${join(this.dir, name)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
        }
        continue;
      }
      const match = ENTRY.exec(name);
      if (!match) continue;
      try {
        const entry = JSON.parse(readFileSync(join(this.dir, name), "utf8")) as OutboxEntry;
        if (entry.sequence !== Number(match[1]) || typeof entry.at !== "string" || !entry.event?.kind || typeof entry.objects !== "object") throw new Error("not an outbox entry");
        this.entries.set(entry.sequence, entry);
      } catch (error) {
        // One bad file must not stop the agent or block the queue: keep it for a person to read.
        try {
          renameSync(join(this.dir, name), join(this.dir, `${name}.bad`));
          this.problems.push(`${join(this.dir, name)}: ${(error as Error).message}; moved aside to ${name}.bad`);
        } catch (renameError) {
          this.problems.push(`${join(this.dir, name)}: ${(error as Error).message}; skipped (cannot move it aside: ${(renameError as NodeJS.ErrnoException).code ?? (renameError as Error).message})`);
        }
      }
    }
    // state.json lags behind the entries (see nextSequence), so the highest entry counts too.
    for (const sequence of this.entries.keys()) this.lastSequence = Math.max(this.lastSequence, sequence);
  }

  /**
   * The next sequence number. Not written here: the entry file carries it, and state.json is
   * brought up to date before the last entry holding a higher number is removed, so one fsynced
   * write per notification is enough and a number that reached the disk is never reused.
   */
  nextSequence(): number {
    this.lastSequence = this.lastSequence >= MAX_SEQUENCE ? 1 : this.lastSequence + 1;
    return this.lastSequence;
  }

  /**
   * Queues an entry; returns the oldest entries dropped to stay within `max`. A failed write
   * (disk full, permissions) keeps the entry in memory and is reported by takeWriteErrors().
   */
  add(entry: OutboxEntry): OutboxEntry[] {
    this.writeAtomically(entryFile(entry.sequence), JSON.stringify(entry));
    this.entries.set(entry.sequence, entry);
    const dropped: OutboxEntry[] = [];
    for (const old of this.pending()) {
      if (this.entries.size <= this.max) break;
      this.remove(old.sequence);
      dropped.push(old);
    }
    if (dropped.length) {
      this.droppedTotal += dropped.length;
      this.writeState();
    }
    return dropped;
  }

  remove(sequence: number): void {
    if (!this.entries.has(sequence)) return;
    if (this.persistedSequence !== this.lastSequence) this.writeState();
    this.entries.delete(sequence);
    try {
      unlinkSync(join(this.dir, entryFile(sequence)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.writeErrors.push(writeError(`cannot remove ${entryFile(sequence)}`, error));
    }
  }

  /** Write failures since the last call, for the caller to log; the queue itself carries on. */
  takeWriteErrors(): OutboxWriteError[] {
    const errors = this.writeErrors;
    this.writeErrors = [];
    return errors;
  }

  /** Queued entries, oldest sequence first. */
  pending(): OutboxEntry[] {
    return [...this.entries.values()].sort((a, b) => a.sequence - b.sequence);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Dropped for lack of room, over the outbox's whole life. */
  get dropped(): number {
    return this.droppedTotal;
  }

  private writeState(): void {
    const before = this.writeErrors.length;
    this.writeAtomically(STATE_FILE, JSON.stringify({ lastSequence: this.lastSequence, dropped: this.droppedTotal }));
    if (this.writeErrors.length === before) this.persistedSequence = this.lastSequence;
  }

  private writeAtomically(name: string, text: string): void {
    try {
      this.writeFile(name, text);
    } catch (error) {
      this.writeErrors.push(writeError(`cannot write ${join(this.dir, name)}`, error));
    }
  }

  private writeFile(name: string, text: string): void {
    const tmp = join(this.dir, `.tmp-${name}`);
    const fd = openSync(tmp, "w", 0o640);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, name));
    const dirFd = openSync(this.dir, "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}
