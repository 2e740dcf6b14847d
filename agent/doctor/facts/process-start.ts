// When a process started, from /proc/PID/stat (field 22: clock ticks after boot) and /proc/stat's
// btime: to tell whether a file was written by the process running now.

/** Linux's USER_HZ, the unit of /proc's process times, is 100 on every mainstream architecture. */
const USER_HZ = 100;

/** Pure: /proc/PID/stat and /proc/stat texts -> the start time in ms since the epoch, or null. */
export function startTimeMs(procPidStat: string, procStat: string): number | null {
  // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
  const rest = procPidStat.slice(procPidStat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(rest[19]);
  const btime = /^btime (\d+)$/m.exec(procStat);
  if (!Number.isFinite(ticks) || !btime) return null;
  return Number(btime[1]) * 1000 + (ticks / USER_HZ) * 1000;
}
