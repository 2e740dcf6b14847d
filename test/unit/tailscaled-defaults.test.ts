// tailscaled's port from PORT in /etc/default/tailscaled: how the file is read, and the firewall
// probe asking about that port when neither the LocalAPI nor tailscaled's socket can tell.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { configFromObject } from "../../agent/config";
import { parseNftJson } from "../../agent/firewall/nft-json";
import { probeFirewall } from "../../agent/probes/firewall";
import { parsePortAssignment, tailscaledDefaultsPort } from "../../agent/probes/tailscaled-defaults";

const dir = mkdtempSync(join(tmpdir(), "ea-tsdefaults-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("parsePortAssignment", () => {
  it("reads the file as Debian's and Tailscale's packages ship it", () => {
    // The shape of both packages' /etc/default/tailscaled.
    const shipped = '# Set the port to listen on for incoming VPN packets.\n# Remote nodes will automatically be informed about the new port number,\n# but you might want to configure this in order to set external firewall\n# settings.\nPORT="41641"\n\n# Extra flags you might want to pass to tailscaled.\nFLAGS=""\n';
    expect(parsePortAssignment(shipped)).toBe(41641);
  });
  it("takes bare, single-quoted and exported values, the last assignment winning, as a shell would", () => {
    expect(parsePortAssignment("PORT=41700\n")).toBe(41700);
    expect(parsePortAssignment("PORT='41701' # moved\n")).toBe(41701);
    expect(parsePortAssignment("export PORT=41702\n")).toBe(41702);
    expect(parsePortAssignment('PORT="41641"\nPORT="41703"\n')).toBe(41703);
  });
  it("gives nothing for what is no port: commented out, empty, 0 (a random port), a variable, out of range", () => {
    for (const text of ['# PORT="41641"\n', 'PORT=""\n', "PORT=0\n", "PORT=$OTHER\n", "PORT=70000\n", 'FLAGS="--port=41641"\n', " MYPORT=1\n", ""]) expect(parsePortAssignment(text)).toBeNull();
  });
  it("an absent file is no port, not an error", async () => {
    expect(await tailscaledDefaultsPort(join(dir, "absent"))).toBeNull();
  });
});

describe("the firewall probe's port", () => {
  const ruleset = async () => ({ backend: "nftables", ruleset: parseNftJson(JSON.stringify({ nftables: [{ metainfo: { json_schema_version: 1 } }] })) });
  const ipv6 = { state: "ok" as const, primary: null, prefixes: [] };
  const config = configFromObject({}, null);
  // A tailscaled process on this host would answer first (its socket); the fallback is for when none can be read.
  const tailscaledRuns = readdirSync("/proc").some((pid) => /^\d+$/.test(pid) && (() => { try { return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "tailscaled"; } catch { return false; } })());

  it.skipIf(tailscaledRuns)("without the LocalAPI's Self.Addrs or tailscaled's socket, asks about the PORT in /etc/default/tailscaled, and says so", async () => {
    const fw = await probeFirewall({ config, tailnetPort: null, ipv6, readRuleset: ruleset, tailscaledDefaults: file("tailscaled", 'PORT="41777"\nFLAGS=""\n') });
    expect(fw).toMatchObject({ state: "ok", port: 41777, portSource: "defaults-file" });
    expect(fw.notes).toContain(`tailscaled's bound port is unknown (no Self.Addrs from the LocalAPI, no tailscaled UDP socket found): checked 41777, the PORT in ${join(dir, "tailscaled")}`);
  });

  it.skipIf(tailscaledRuns)("with no PORT there either, Tailscale's default 41641", async () => {
    const fw = await probeFirewall({ config, tailnetPort: null, ipv6, readRuleset: ruleset, tailscaledDefaults: file("empty", 'FLAGS=""\n') });
    expect(fw).toMatchObject({ port: 41641, portSource: "default" });
  });

  it("the LocalAPI's port still wins over the file", async () => {
    const fw = await probeFirewall({ config, tailnetPort: 41999, ipv6, readRuleset: ruleset, tailscaledDefaults: file("tailscaled2", 'PORT="41777"\n') });
    expect(fw).toMatchObject({ port: 41999, portSource: "localapi" });
  });
});
