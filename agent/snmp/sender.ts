// Sends one notification (trap or inform, v2c or v3) to a resolved address over net-snmp, one
// session per destination. Knows nothing of queues: the notifier decides what and when.
import snmp, { type Session, type Varbind } from "net-snmp";
import type { Config } from "../config";
import { sendFailure, type SendFailure } from "./net-snmp-internals";
import { toNetSnmpUser, V2C_ENGINE_ID } from "./usm";
import type { ResolvedTarget } from "./target";

export interface SendResult {
  /** An inform's response came back; always false for a trap, which has none. */
  acknowledged: boolean;
  /** Inform round trip (including net-snmp's retries), null for a trap. */
  rttMs: number | null;
}

export type NotificationSettings = Config["notifications"];

/** A failed send with what the receiver did (its message stays net-snmp's). */
export class SendError extends Error {
  constructor(
    message: string,
    readonly failure: SendFailure,
  ) {
    super(message);
    this.name = "SendError";
  }
}

export function describeTarget(target: ResolvedTarget): string {
  return target.family === 6 ? `udp6:[${target.address}]:${target.port}` : `udp:${target.address}:${target.port}`;
}

export class Sender {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly settings: NotificationSettings) {}

  private session(target: ResolvedTarget): Session {
    const key = describeTarget(target);
    const existing = this.sessions.get(key);
    if (existing) return existing;
    const s = this.settings;
    const options = {
      // net-snmp sends the first v3 inform (engine discovery) to trapPort but later ones to
      // `port`, where they time out: both point at the receiver (reference/net-snmp.md).
      port: target.port,
      trapPort: target.port,
      transport: target.family === 6 ? ("udp6" as const) : ("udp4" as const),
      timeout: s.timeoutMs,
      retries: s.retries,
    };
    const session =
      s.version === "3"
        ? snmp.createV3Session(target.address, toNetSnmpUser(s.user!), { ...options, version: snmp.Version3, ...(s.engineId ? { engineID: s.engineId } : {}) })
        : snmp.createSession(target.address, s.community, { ...options, version: snmp.Version2c, engineID: V2C_ENGINE_ID });
    // A socket error must not take the daemon down; the next send reports it.
    session.on("error", () => undefined);
    this.sessions.set(key, session);
    return session;
  }

  /** Resolves when the trap is on the wire or the inform is acknowledged; rejects otherwise. */
  send(target: ResolvedTarget, notificationOid: string, varbinds: Varbind[]): Promise<SendResult> {
    const session = this.session(target);
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const done = (error: Error | null) => {
        if (!error) {
          resolve(this.settings.inform ? { acknowledged: true, rttMs: Date.now() - started } : { acknowledged: false, rttMs: null });
          return;
        }
        const failure = sendFailure(error, session);
        // A fresh session next time: the receiver may have restarted with a new engine (v3).
        this.drop(describeTarget(target));
        reject(new SendError(error.message, failure));
      };
      try {
        if (this.settings.inform) session.inform(notificationOid, varbinds, {}, (error) => done(error));
        else session.trap(notificationOid, varbinds, {}, (error) => done(error));
      } catch (error) {
        done(error as Error);
      }
    });
  }

  private drop(key: string): void {
    const session = this.sessions.get(key);
    this.sessions.delete(key);
    try {
      session?.close();
    } catch {
      // already closed
    }
  }

  close(): void {
    for (const key of [...this.sessions.keys()]) this.drop(key);
  }
}
