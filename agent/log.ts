// The process's logger: pino JSON lines on stdout (journald adds the timestamp's context).
// Secrets never reach it: log config only through redactConfig().
import pino, { type Logger } from "pino";

export type { Logger };

export function createLogger(level: string = "info", name = "edge-agent"): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** For commands whose stdout is their answer: logs go to stderr. */
export function createStderrLogger(level: string = "warn", name = "edge-agent"): Logger {
  return pino({ name, level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}
