// Bounds the work an unknown SNMPv3 engine can cause. A v3 message from an engine ID the
// receiver has not authenticated before costs a key localization (a megabyte of hashing, ~3.5 ms
// of CPU) before its digest can even be checked, and a discovery request costs a report: a peer
// that makes up a new engine ID per datagram would otherwise buy that work for free. So such
// messages take a token from their source's bucket (and from one shared by all sources), and
// are dropped, counted, when it is empty. Engines whose messages authenticated pass freely.
// Time is passed in; pure apart from its own bounded maps.

export interface EngineGateOptions {
  /** Tokens per second and bucket size, per source address. */
  perSourceRate: number;
  perSourceBurst: number;
  /** The same for all sources together. */
  totalRate: number;
  totalBurst: number;
  /** Most engines and sources remembered; the oldest are forgotten first. */
  maxEntries: number;
}

export const ENGINE_GATE_DEFAULTS: EngineGateOptions = { perSourceRate: 5, perSourceBurst: 20, totalRate: 200, totalBurst: 400, maxEntries: 10_000 };

interface Bucket {
  tokens: number;
  atMs: number;
}

function refill(bucket: Bucket, rate: number, burst: number, nowMs: number): void {
  bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.atMs) / 1000) * rate);
  bucket.atMs = nowMs;
}

export class EngineGate {
  private readonly known = new Map<string, true>();
  private readonly sources = new Map<string, Bucket>();
  private readonly total: Bucket;

  constructor(
    readonly options: EngineGateOptions = ENGINE_GATE_DEFAULTS,
    nowMs = Date.now(),
  ) {
    this.total = { tokens: options.totalBurst, atMs: nowMs };
  }

  isKnown(engineId: string): boolean {
    return engineId !== "" && this.known.has(engineId);
  }

  /** An engine whose message authenticated: its key is localized, later messages cost little. */
  learn(engineId: string): void {
    if (engineId === "" || this.known.has(engineId)) return;
    if (this.known.size >= this.options.maxEntries) this.known.delete(this.known.keys().next().value as string);
    this.known.set(engineId, true);
  }

  /** May a message from `source` with this (unknown, or empty: discovery) engine ID be processed? */
  admit(source: string, nowMs = Date.now()): boolean {
    const o = this.options;
    let bucket = this.sources.get(source);
    if (!bucket) {
      if (this.sources.size >= o.maxEntries) this.sources.delete(this.sources.keys().next().value as string);
      bucket = { tokens: o.perSourceBurst, atMs: nowMs };
      this.sources.set(source, bucket);
    }
    refill(bucket, o.perSourceRate, o.perSourceBurst, nowMs);
    refill(this.total, o.totalRate, o.totalBurst, nowMs);
    if (bucket.tokens < 1 || this.total.tokens < 1) return false;
    bucket.tokens--;
    this.total.tokens--;
    return true;
  }
}
