// Polls a cheap "fingerprint" of some state on an interval and calls back when it changes, so
// the daemon can re-probe at once instead of at the next interval. The watchers (addresses,
// tailnet) only say what to fingerprint.

export class ChangePoller {
  private timer: NodeJS.Timeout | null = null;
  private last: string | null = null;
  private polling = false;

  /** `fingerprint` must not throw: a source that cannot be read is a fingerprint of its own. */
  constructor(
    private readonly fingerprint: () => Promise<string>,
    private readonly onChange: () => void,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    // A slow read must not pile up behind itself.
    if (this.polling) return;
    this.polling = true;
    let key: string;
    try {
      key = await this.fingerprint();
    } finally {
      this.polling = false;
    }
    const changed = this.last !== null && key !== this.last;
    this.last = key;
    if (changed && this.timer) this.onChange();
  }
}
