// Notices that the kernel's IPv6 addresses changed, so the daemon re-probes them at once instead
// of at the next interval. It polls /proc/net/if_inet6 and compares the text.
//
// Why polling and not netlink (`ip -o monitor address`), measured by
// scripts/bench/daemon-address-watch.ts on a 2-vCPU VM, 20 adds/removes in a namespace:
//   ip -o monitor address: noticed after median 40 ms, p95 70 ms; one more process (2.6 MiB RSS)
//                          to spawn, supervise and restart, and iproute2 becomes a dependency
//   poll every 500 ms:     noticed after median 275 ms, p95 488 ms; ~1 ms CPU per read (0.2 % of
//                          one core), no process, works wherever the file can be read (a test
//                          can point it at another namespace's /proc/PID/net/if_inet6)
// Both are well inside the 2 s budget; polling is the simpler one to keep running.
import { readFile } from "node:fs/promises";
import { ChangePoller } from "./change-poller";

export const ADDRESS_POLL_MS = 500;

/** Calls back when /proc/net/if_inet6 (or the given copy of it) changes. */
export function watchAddresses(path: string, onChange: () => void, intervalMs = ADDRESS_POLL_MS): ChangePoller {
  return new ChangePoller(
    // A file that vanishes (IPv6 switched off) is a change too; the probe says why.
    () => readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => `unreadable: ${error.code ?? "error"}`),
    onChange,
    intervalMs,
  );
}
