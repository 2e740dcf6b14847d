// The addresses probe on real kernel interfaces in a network namespace this test makes: global,
// temporary, deprecated, tentative, link-local, ULA and Tailscale-range addresses, read through
// /proc/net/if_inet6 by the probe and by the real CLI run inside the namespace.
// Sources in process for the probe's cases (one module against the kernel); the same facts through the
// packaged program are the `status` runs in the namespace below and in status.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseIfInet6, probeAddresses } from "../../agent/probes/addresses";
import type { Ipv6Prefix, Ipv6State } from "../../agent/state/node-state";
import { runAgent } from "../helpers/cli";
import { createNetns, type Netns } from "../helpers/netns";
import { describeWith } from "../helpers/prereqs";
import { waitFor } from "../helpers/ports";

const ALLOCATION = "2001:db8:100::/56";

describeWith({ root: true, binaries: ["ip", "sysctl"] }, "addresses probe in a network namespace", () => {
  let ns: Netns;
  let ifInet6: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ea-addr-"));
    ns = createNetns("eaaddr");
    const ip = (...args: string[]) => ns.exec("ip", args);
    // vc/vd: a link with carrier. DAD is off on vc so its addresses are usable at once.
    ip("link", "add", "vc", "type", "veth", "peer", "name", "vd");
    ns.exec("sysctl", ["-q", "-w", "net.ipv6.conf.vc.accept_dad=0", "net.ipv6.conf.vc.use_tempaddr=2"]);
    ip("link", "set", "vc", "up");
    ip("link", "set", "vd", "up");
    // A stable address the kernel makes temporary addresses from (privacy extensions).
    ip("addr", "add", "2001:db8:100:1::20/64", "dev", "vc", "mngtmpaddr", "valid_lft", "3600", "preferred_lft", "1800");
    ip("addr", "add", "2001:db8:100:2::10/64", "dev", "vc", "preferred_lft", "0"); // deprecated
    ip("addr", "add", "2a01:4f8:c0c:1::10/64", "dev", "vc"); // global, outside the allocation
    ip("addr", "add", "2001:db8:999:1::10/64", "dev", "vc"); // documentation range, outside it
    ip("addr", "add", "fd12:3456:789a:1::10/64", "dev", "vc"); // ULA
    ip("addr", "add", "fd7a:115c:a1e0::1234:5678/128", "dev", "vc"); // Tailscale's range
    ip("addr", "add", "fe80::10/64", "dev", "vc"); // link-local
    // va/vb: the peer stays down, so DAD cannot finish and an address without nodad stays tentative.
    ip("link", "add", "va", "type", "veth", "peer", "name", "vb");
    ip("link", "set", "va", "up");
    ip("addr", "add", "2001:db8:100:3::10/64", "dev", "va");
    // The same /64 as on vc, on another interface: a separate entry.
    ip("addr", "add", "2001:db8:100:1::11/64", "dev", "va", "nodad");
    ifInet6 = `/proc/${ns.anchorPid}/net/if_inet6`;
    // The kernel makes the temporary address asynchronously.
    await waitFor("a temporary address", async () => parseIfInet6(await readFile(ifInet6, "utf8")).some((a) => a.flags.includes("temporary")), 5000);
  });
  afterAll(() => {
    ns?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const entry = (state: Ipv6State, iface: string, prefix: string): Ipv6Prefix => {
    const found = state.prefixes.find((p) => p.interface === iface && p.prefix === prefix);
    if (!found) throw new Error(`no ${prefix} on ${iface} in ${JSON.stringify(state.prefixes)}`);
    return found;
  };

  it("with an allocation: groups per /64 per interface, with the kernel's flags", async () => {
    const state = (await probeAddresses([ALLOCATION], ifInet6)) as Ipv6State;
    expect(state.state).toBe("ok");
    expect(state.prefixes.map((p) => `${p.interface} ${p.prefix}`).sort()).toEqual([
      "va 2001:db8:100:1::/64",
      "va 2001:db8:100:3::/64",
      "vc 2001:db8:100:1::/64",
      "vc 2001:db8:100:2::/64",
      "vc 2a01:4f8:c0c:1::/64",
    ]);

    const privacy = entry(state, "vc", "2001:db8:100:1::/64");
    expect(privacy.inAllocation).toBe(true);
    const stable = privacy.addresses.find((a) => a.address === "2001:db8:100:1::20");
    expect(stable).toEqual({ address: "2001:db8:100:1::20", prefixLength: 64, flags: [] });
    const temporary = privacy.addresses.filter((a) => a.flags.includes("temporary"));
    expect(temporary.length).toBeGreaterThanOrEqual(1);
    expect(temporary[0].address).toMatch(/^2001:db8:100:1:/);

    expect(entry(state, "vc", "2001:db8:100:2::/64").addresses).toEqual([{ address: "2001:db8:100:2::10", prefixLength: 64, flags: ["deprecated", "permanent"] }]);
    expect(entry(state, "va", "2001:db8:100:3::/64").addresses).toEqual([{ address: "2001:db8:100:3::10", prefixLength: 64, flags: ["tentative", "permanent"] }]);
    expect(entry(state, "va", "2001:db8:100:1::/64").addresses).toEqual([{ address: "2001:db8:100:1::11", prefixLength: 64, flags: ["nodad", "permanent"] }]);
    expect(entry(state, "vc", "2a01:4f8:c0c:1::/64").inAllocation).toBe(false);

    // Left out: link-local, ULA, Tailscale's range, and 2001:db8 outside the allocation.
    const all = state.prefixes.flatMap((p) => p.addresses.map((a) => a.address));
    for (const absent of ["fe80::10", "fd12:3456:789a:1::10", "fd7a:115c:a1e0::1234:5678", "2001:db8:999:1::10"]) expect(all).not.toContain(absent);
    expect(all.some((a) => a.startsWith("fe80:"))).toBe(false);

    // Usable, inside the allocation, with a stable address.
    expect(state.primary).toBe("2001:db8:100:1::/64");
  });

  it("without an allocation: 2001:db8 is not global, inAllocation is null", async () => {
    const state = (await probeAddresses([], ifInet6)) as Ipv6State;
    expect(state.prefixes).toEqual([{ prefix: "2a01:4f8:c0c:1::/64", interface: "vc", inAllocation: null, addresses: [{ address: "2a01:4f8:c0c:1::10", prefixLength: 64, flags: ["permanent"] }] }]);
    expect(state.primary).toBe("2a01:4f8:c0c:1::/64");
  });

  it("a missing if_inet6 (IPv6 disabled) is unavailable, with the reason", async () => {
    const state = await probeAddresses([], join(dir, "if_inet6"));
    expect(state).toEqual({ state: "unavailable", code: "ipv6-disabled", error: `${join(dir, "if_inet6")} does not exist: IPv6 is disabled in this kernel or namespace` });
  });

  it("`edge-agent status --json` run inside the namespace reports the same", async () => {
    const config = join(dir, "config.yaml");
    writeFileSync(config, `ipv6: { allocations: [${ALLOCATION}] }\ntailscale: { socket: ${join(dir, "none.sock")} }\nprobes: { timeout: 5s }\n`);
    const run = await runAgent(["status", "--json", "--config", config], { netns: ns.name });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    const direct = (await probeAddresses([ALLOCATION], ifInet6)) as Ipv6State;
    expect(doc.ipv6).toEqual(direct);
    expect(doc.ipv6.primary).toBe("2001:db8:100:1::/64");
    // Inside the namespace nothing else runs: the other parts say so, and are still there.
    expect(doc.tailnet.state).toBe("unavailable");
    expect(doc.services.nodeExporter.error).toMatch(/ECONNREFUSED/);
    expect(doc.services.snmpd.error).toMatch(/^nothing listens on UDP port 161 at 127\.0\.0\.1/);
    expect(doc.host.state).toBe("ok");
  }, 120_000);

  it("the text form shows prefixes, flags and the allocation verdict", async () => {
    const config = join(dir, "config.yaml");
    const run = await runAgent(["status", "--config", config], { netns: ns.name });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("ipv6      primary 2001:db8:100:1::/64\n");
    expect(run.stdout).toContain("          2a01:4f8:c0c:1::/64 on vc (OUTSIDE the allocations)\n");
    expect(run.stdout).toContain("          2001:db8:100:3::/64 on va (in allocation)\n            2001:db8:100:3::10/64 [tentative, permanent]\n");
    expect(run.stdout).toContain("            2001:db8:100:2::10/64 [deprecated, permanent]\n");
    expect(run.stdout).toMatch(/ {12}2001:db8:100:1:[0-9a-f:]+\/64 \[temporary\]\n/);
  }, 120_000);
});
