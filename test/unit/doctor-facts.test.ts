// Parsers behind doctor's own facts: /proc/net/udp, node-exporter's arguments, Debian's ARGS
// line, IPv4 classification, the receive-process test (pure); where systemd units and the man page are found.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hostIpv4 } from "../../agent/probes/ipv4";
import { parseDefaultsArgs, parseNodeExporterArgs } from "../../agent/doctor/facts/node-exporter-process";
import { startTimeMs } from "../../agent/doctor/facts/process-start";
import { isReceiveCommand } from "../../agent/doctor/facts/role";
import { lookupUser, modeAllowsWrite } from "../../agent/doctor/facts/textfile-dir";
import { parseListen, socketsFor } from "../../agent/doctor/facts/udp-sockets";
import { configReference } from "../../agent/doctor/facts/config-reference";
import { unitInstalled } from "../../agent/doctor/facts/units";
import { parseProcNetUdp } from "../../agent/probes/udp-listeners";

const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 2811: 0100007F:3F21 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 13848 2 000000009c7d1631 0
  162: 00000000:00A2 00000000:0000 07 00000000:00000000 00:00000000 00000000   110        0 2222 2 0000000000000000 0
`;
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  162: 00000000000000000000000000000000:00A2 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   110        0 3333 2 0000000000000000 0
  500: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4444 2 0000000000000000 0
  501: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5555 2 0000000000000000 0
`;

describe("/proc/net/udp{,6}", () => {
  it("decodes addresses, ports and inodes", () => {
    expect(parseProcNetUdp(UDP, true)).toEqual([
      { family: "ipv4", address: "127.0.0.1", port: 16161, inode: 13848 },
      { family: "ipv4", address: "0.0.0.0", port: 162, inode: 2222 },
    ]);
    expect(parseProcNetUdp(UDP6, true).map((s) => `${s.address} ${s.port}`)).toEqual([":: 162", "::ffff:7f00:1 8080", "::1 8081"]);
  });
  it("matches listen addresses to the sockets that would receive their datagrams", () => {
    const sockets = [...parseProcNetUdp(UDP, true), ...parseProcNetUdp(UDP6, true)];
    expect(socketsFor(parseListen("udp6:[::]:162")!, sockets).map((s) => s.inode)).toEqual([3333]);
    expect(socketsFor(parseListen("udp:0.0.0.0:162")!, sockets).map((s) => s.inode)).toEqual([2222, 3333]);
    expect(socketsFor(parseListen("udp:127.0.0.1:162")!, sockets).map((s) => s.inode)).toEqual([2222, 3333]);
    expect(socketsFor(parseListen("udp:0.0.0.0:1162")!, sockets)).toEqual([]);
  });
});

describe("node-exporter's textfile directory", () => {
  it("reads flags in both spellings, Debian's default, and a disabled collector", () => {
    expect(parseNodeExporterArgs(["--web.listen-address=127.0.0.1:9101", "--collector.textfile.directory", "/srv/tf"], "/var/lib/prometheus/node-exporter")).toEqual({ listen: ["127.0.0.1:9101"], textfileDir: "/srv/tf", textfileEnabled: true });
    expect(parseNodeExporterArgs([], "/var/lib/prometheus/node-exporter")).toEqual({ listen: [":9100"], textfileDir: "/var/lib/prometheus/node-exporter", textfileEnabled: true });
    expect(parseNodeExporterArgs(["--collector.disable-defaults", "--collector.cpu"], null).textfileEnabled).toBe(false);
    expect(parseNodeExporterArgs(["--collector.disable-defaults", "--collector.textfile"], null).textfileEnabled).toBe(true);
    expect(parseNodeExporterArgs(["--no-collector.textfile"], null).textfileEnabled).toBe(false);
  });
  it("splits Debian's ARGS line", () => {
    expect(parseDefaultsArgs('# comment\nARGS="--collector.textfile.directory=/srv/tf --web.listen-address=:9100"\n')).toEqual(["--collector.textfile.directory=/srv/tf", "--web.listen-address=:9100"]);
    expect(parseDefaultsArgs('ARGS=""\n')).toEqual([]);
    expect(parseDefaultsArgs("# nothing\n")).toEqual([]);
  });
});

describe("host IPv4", () => {
  it("leaves out loopback, tailscale0 and the Tailscale IPs; classifies the rest", () => {
    const table = {
      lo: [{ address: "127.0.0.1", family: "IPv4", internal: true }],
      eth0: [{ address: "100.80.1.2", family: "IPv4", internal: false }, { address: "2001:db8::1", family: "IPv6", internal: false }],
      wlan0: [{ address: "192.168.1.5", family: "IPv4", internal: false }, { address: "81.2.69.142", family: "IPv4", internal: false }],
      tailscale0: [{ address: "100.101.102.103", family: "IPv4", internal: false }],
    };
    expect(hostIpv4(table, ["100.101.102.103"])).toEqual([
      { address: "100.80.1.2", interface: "eth0", kind: "cgnat" },
      { address: "192.168.1.5", interface: "wlan0", kind: "private" },
      { address: "81.2.69.142", interface: "wlan0", kind: "public" },
    ]);
  });
  it("keeps documentation and reserved ranges, named so, and leaves out link-local", () => {
    const table = { eth0: [{ address: "192.0.2.2", family: "IPv4", internal: false }, { address: "169.254.1.1", family: "IPv4", internal: false }, { address: "240.0.0.1", family: "IPv4", internal: false }] };
    expect(hostIpv4(table, [])).toEqual([
      { address: "192.0.2.2", interface: "eth0", kind: "documentation" },
      { address: "240.0.0.1", interface: "eth0", kind: "reserved" },
    ]);
  });
});

describe("scraper detection and the daemon user's write permission", () => {
  it("recognises `edge-agent receive` however it was started", () => {
    expect(isReceiveCommand(["node", "/usr/bin/edge-agent", "receive"])).toBe(true);
    expect(isReceiveCommand(["node", "/src/bin/edge-agent.js", "receive", "--config", "x"])).toBe(true);
    expect(isReceiveCommand(["node", "/src/bin/edge-agent.js", "run"])).toBe(false);
    expect(isReceiveCommand(["snmptrapd", "receive"])).toBe(false);
  });
  it("reads passwd/group and applies the mode bits", () => {
    const user = lookupUser("root:x:0:0::/root:/bin/sh\nedge-agent:x:998:997::/nonexistent:/usr/sbin/nologin\n", "prometheus:x:120:edge-agent\n", "edge-agent");
    expect(user).toEqual({ uid: 998, gids: [997, 120] });
    expect(modeAllowsWrite(0o40775, 0, 120, 998, [997, 120])).toBe(true);
    expect(modeAllowsWrite(0o40755, 0, 120, 998, [997, 120])).toBe(false);
    expect(modeAllowsWrite(0o40755, 998, 0, 998, [997])).toBe(true);
  });
});

describe("process start time", () => {
  it("reads field 22 after a command name with spaces and parentheses, plus btime", () => {
    const stat = "4242 (node (edge) agent) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 11 0 123456 1000000 5000 18446744073709551615";
    expect(startTimeMs(stat, "cpu  1 2 3\nbtime 1764320000\nprocesses 9\n")).toBe(1764320000 * 1000 + 1234560);
    expect(startTimeMs(stat, "no btime here\n")).toBeNull();
  });
});

describe("unitInstalled", () => {
  it("finds a unit file in any of systemd's unit directories, without systemd", () => {
    const dirs = [mkdtempSync(join(tmpdir(), "ea-units-etc-")), mkdtempSync(join(tmpdir(), "ea-units-lib-"))];
    try {
      writeFileSync(join(dirs[1], "edge-agent.service"), "[Service]\n");
      expect(unitInstalled("edge-agent.service", dirs)).toBe(true);
      expect(unitInstalled("edge-agent-receiver.service", dirs)).toBe(false);
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});

describe("configReference", () => {
  it("is the man page once installed, the source's copy before (the .deb ships no README)", () => {
    const dir = mkdtempSync(join(tmpdir(), "ea-man-"));
    try {
      const page = join(dir, "edge-agent.yaml.5.gz");
      expect(configReference([page])).toBe("man -l packaging/man/edge-agent.yaml.5 in edge-agent's source, or its README's Config reference");
      writeFileSync(page, "");
      expect(configReference([page])).toBe("man 5 edge-agent.yaml");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
