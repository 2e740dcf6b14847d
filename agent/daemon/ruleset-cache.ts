// Keeps the last live ruleset read while nothing can have changed it, so a probe cycle costs a
// spawn of `nft -j list ruleset` only after a change. A cached copy is served only when all hold:
// the nft monitor (ruleset-watcher.ts) was already reporting when that read began and saw no
// change since; no legacy iptables tables exist (their changes are invisible to the monitor, so
// hosts with them are read every cycle, as before); and the copy is younger than MAX_AGE_MS, which
// bounds what the monitor cannot report (set elements added by rules from the packet path).
import { IP6_TABLES_NAMES, IP_TABLES_NAMES, legacyTablesPresent, readLiveRuleset, type LiveRuleset } from "../probes/firewall";

export const MAX_AGE_MS = 5 * 60_000;

/** What the cache needs to know of the watcher. */
export interface ChangeSource {
  readonly changes: number;
  readonly trustedSince: number | null;
}

interface Entry {
  live: LiveRuleset;
  readStartedAt: number;
  changesAtRead: number;
  /** Legacy tables existed at the read: the copy holds rules whose changes nothing reports. */
  withLegacy: boolean;
}

export class RulesetCache {
  private entry: Entry | null = null;
  /** Reads that went to the tool, and cycles served from the cache: for logs and the benchmark. */
  readonly counts = { read: 0, cached: 0 };

  constructor(
    private readonly watcher: ChangeSource,
    private readonly read: (timeoutMs: number) => Promise<LiveRuleset> = readLiveRuleset,
    private readonly legacyPresent: () => Promise<boolean> = async () =>
      (await Promise.all([legacyTablesPresent(IP_TABLES_NAMES), legacyTablesPresent(IP6_TABLES_NAMES)])).some(Boolean),
    private readonly now: () => number = Date.now,
  ) {}

  async get(timeoutMs: number): Promise<LiveRuleset> {
    if (this.entry && (await this.stillCurrent(this.entry))) {
      this.counts.cached++;
      return this.entry.live;
    }
    const readStartedAt = this.now();
    const changesAtRead = this.watcher.changes;
    this.entry = null;
    // Failures are not kept: the next cycle asks again.
    const live = await this.read(timeoutMs);
    this.counts.read++;
    this.entry = { live, readStartedAt, changesAtRead, withLegacy: live.backend.includes("iptables-legacy") };
    return live;
  }

  private async stillCurrent(entry: Entry): Promise<boolean> {
    if (entry.withLegacy) return false;
    const trustedSince = this.watcher.trustedSince;
    if (trustedSince === null || entry.readStartedAt < trustedSince) return false;
    if (this.watcher.changes !== entry.changesAtRead) return false;
    if (this.now() - entry.readStartedAt > MAX_AGE_MS) return false;
    return !(await this.legacyPresent());
  }
}
