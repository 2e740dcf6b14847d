// Flap damping for notifications: a subject (one service, the path, the addresses, ...) that
// changes more than `maxChanges` times within `windowMs` is held down: its further changes are
// not sent until it has been quiet for `quietMs`, and then one summary says how it ended and how
// many changes were held back. Pure: the clock is injected, the daemon calls tick() each cycle.
import type { StateEvent } from "../diff";
import { isoTime } from "../iso-time";

export interface FlapDamperOptions {
  /** How far back changes are counted. */
  windowMs: number;
  /** Changes allowed within the window; the next one starts a hold-down. */
  maxChanges: number;
  /** A held subject is released after this long without a change. */
  quietMs: number;
}

export const DEFAULT_FLAP_OPTIONS: FlapDamperOptions = { windowMs: 60_000, maxChanges: 4, quietMs: 60_000 };

interface Subject {
  /** Times of recent changes that were sent. */
  changes: number[];
  held: { since: number; lastAt: number; count: number; last: StateEvent } | null;
}

/** Kinds that say "I am here" rather than "this changed": never damped. */
const UNDAMPED = new Set<StateEvent["kind"]>(["agentStarted", "heartbeat", "test"]);

/** serviceDown and serviceUp of one service are one subject: a bounce alternates the two. */
export function subjectOf(event: StateEvent): string {
  return event.kind === "serviceDown" || event.kind === "serviceUp" ? `service:${event.service ?? "?"}` : event.kind;
}

export class FlapDamper {
  private readonly opts: FlapDamperOptions;
  private readonly subjects = new Map<string, Subject>();

  constructor(
    opts: Partial<FlapDamperOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.opts = { ...DEFAULT_FLAP_OPTIONS, ...opts };
  }

  /** The events to send now for this one: itself, or nothing while its subject is held down. */
  admit(event: StateEvent): StateEvent[] {
    if (UNDAMPED.has(event.kind)) return [event];
    const now = this.now();
    const key = subjectOf(event);
    const subject = this.subjects.get(key) ?? { changes: [], held: null };
    this.subjects.set(key, subject);
    if (subject.held) {
      subject.held.count++;
      subject.held.lastAt = now;
      subject.held.last = event;
      return [];
    }
    subject.changes = subject.changes.filter((t) => now - t < this.opts.windowMs);
    if (subject.changes.length >= this.opts.maxChanges) {
      subject.held = { since: now, lastAt: now, count: 1, last: event };
      return [];
    }
    subject.changes.push(now);
    return [event];
  }

  /** Summaries for held subjects that have been quiet long enough; forgets idle subjects. */
  tick(): StateEvent[] {
    const now = this.now();
    const out: StateEvent[] = [];
    for (const [key, subject] of this.subjects) {
      const held = subject.held;
      if (held && now - held.lastAt >= this.opts.quietMs) {
        out.push({
          ...held.last,
          summary: `${held.last.summary} (settled after flapping: ${held.count} change${held.count === 1 ? "" : "s"} held back between ${isoTime(held.since)} and ${isoTime(held.lastAt)})`,
        });
        this.subjects.delete(key);
      } else if (!held && subject.changes.every((t) => now - t >= this.opts.windowMs)) {
        this.subjects.delete(key);
      }
    }
    return out;
  }

  /** Subjects held down right now (for status output and tests). */
  held(): string[] {
    return [...this.subjects].filter(([, s]) => s.held).map(([key]) => key);
  }
}
