// UTC timestamps in ISO 8601 form (what Date.prototype.toISOString prints), built from the UTC
// getters. V8's toISOString asks ICU for the local time zone first, which maps ~600 KiB of ICU's
// time-zone data into a process that has no use for it; the daemon stamps every cycle and log line.

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** `ms` since the epoch as YYYY-MM-DDTHH:MM:SS.sssZ; years outside 0..9999 as toISOString does. */
export function isoTime(ms: number = Date.now()): string {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (Number.isNaN(year)) throw new RangeError("Invalid time value");
  const y = year >= 0 && year <= 9999 ? pad(year, 4) : `${year < 0 ? "-" : "+"}${pad(Math.abs(year), 6)}`;
  return `${y}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}Z`;
}
