// Notices nftables ruleset changes as they are committed, through a long-lived `nft monitor`
// child: the kernel reports every committed transaction (nft, iptables-nft, firewalld, ufw on
// nft) as a "# new generation N" line. The daemon then re-reads the ruleset only when it changed,
// instead of spawning `nft -j list ruleset` every cycle (the largest CPU cost of a cycle, ~10-16
// ms per spawn), and re-judges the firewall at once instead of at the next interval.
// Legacy iptables tables are not nf_tables: their changes are not seen here (see ruleset-cache.ts).
import { spawn, type ChildProcess } from "node:child_process";
import type { Logger } from "../log";

/** The monitor is trusted once it has run this long: nft subscribes within milliseconds of exec. */
export const SUBSCRIBE_GRACE_MS = 500;
const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 60_000;

/** Pure: whether a line of `nft monitor` output marks a committed change. */
export function isGenerationLine(line: string): boolean {
  return line.startsWith("# new generation ");
}

export class RulesetWatcher {
  private child: ChildProcess | null = null;
  private startedAt: number | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private restartDelayMs = RESTART_MIN_MS;
  private stopped = true;
  private complained = false;
  /** Changes seen since start: a reader compares it before and after its read. */
  private generation = 0;

  constructor(
    private readonly logger: Logger,
    private readonly onChange: () => void,
    private readonly command: string[] = ["nft", "monitor"],
  ) {}

  /** Counts the changes seen; a read is current only if the count did not move while it ran. */
  get changes(): number {
    return this.generation;
  }

  /**
   * Since when every change is being reported (ms since the epoch), or null while the monitor is
   * not running. A ruleset read that began before this time may have missed a change.
   */
  get trustedSince(): number | null {
    return this.startedAt === null ? null : this.startedAt + SUBSCRIBE_GRACE_MS;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.spawnMonitor();
  }

  stop(): void {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.child?.kill();
    this.child = null;
    this.startedAt = null;
  }

  private spawnMonitor(): void {
    const [file, ...args] = this.command;
    const child = spawn(file, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` },
    });
    this.child = child;
    this.startedAt = Date.now();
    // A change committed while nft was still subscribing is reported by nobody, and the read of
    // the cycle that ran meanwhile is not trusted: once the monitor is, ask for a cycle, so the
    // ruleset is read again now instead of at the next interval. (A monitor that exited or was
    // stopped meanwhile is no longer this.child, and asks for nothing.)
    setTimeout(() => {
      if (this.child === child) this.onChange();
    }, SUBSCRIBE_GRACE_MS).unref?.();
    let stderr = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (text: string) => {
      if (stderr.length < 2000) stderr += text;
    });
    let partial = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (text: string) => {
      const lines = (partial + text).split("\n");
      // Only a line's start matters; an element list printed as one huge line is cut short.
      partial = (lines.pop() ?? "").slice(0, 64);
      if (!lines.some(isGenerationLine)) return;
      this.generation++;
      // A monitor that reports is a healthy one: the next failure starts from a short delay.
      this.restartDelayMs = RESTART_MIN_MS;
      this.onChange();
    });
    child.on("error", (error) => this.exited(child, (error as NodeJS.ErrnoException).code === "ENOENT" ? "nft is not installed" : error.message));
    child.on("exit", (code, signal) => this.exited(child, stderr.trim() || `exited with ${signal ?? `status ${code}`}`));
  }

  private exited(child: ChildProcess, why: string): void {
    if (this.child !== child) return;
    this.child = null;
    this.startedAt = null;
    // Whatever happened while no monitor ran is unknown: count it as a change.
    this.generation++;
    if (this.stopped) return;
    if (!this.complained) {
      this.complained = true;
      this.logger.warn({ error: why }, `cannot watch the nftables ruleset (nft monitor: ${why}); reading it every cycle until the monitor runs again`);
    }
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopped) this.spawnMonitor();
    }, this.restartDelayMs);
    this.restartTimer.unref?.();
    this.restartDelayMs = Math.min(this.restartDelayMs * 2, RESTART_MAX_MS);
  }
}
