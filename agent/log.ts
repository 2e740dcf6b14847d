// The process's logger: pino JSON lines on stdout (journald adds the timestamp's context).
// Secrets never reach it: log config only through redactConfig().
import pino, { type Logger } from "pino";
import { isoTime } from "./iso-time";

export type { Logger };

/** pino's isoTime, without Date.prototype.toISOString (see iso-time.ts). */
const isoTimestamp = () => `,"time":"${isoTime()}"`;

export function createLogger(level: string = "info", name = "edge-agent"): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: isoTimestamp });
}

/** For commands whose stdout is their answer: logs go to stderr. */
export function createStderrLogger(level: string = "warn", name = "edge-agent"): Logger {
  return pino({ name, level, base: undefined, timestamp: isoTimestamp }, pino.destination(2));
}
