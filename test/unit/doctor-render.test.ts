// The doctor's output forms: the terminal form (marks, colour), the ASCII fallback and JSON.
import { describe, expect, it } from "vitest";
import { textStyle } from "../../agent/commands/doctor";
import { summarise, type CheckResult, type Report } from "../../agent/doctor/finding";
import { renderJson } from "../../agent/doctor/render-json";
import { renderText } from "../../agent/doctor/render-text";

const checks: CheckResult[] = [
  { id: "config", group: "config", status: "ok", finding: "/etc/edge-agent/config.yaml is valid (scraper \"scraper\")", fix: null, durationMs: 1 },
  { id: "ipv6-prefix", group: "addresses", status: "ok", finding: "2001:db8:100:1::/64 on eth0, inside 2001:db8:100::/56", fix: null, durationMs: 40 },
  { id: "tailscaled", group: "tailnet", status: "ok", finding: "tailscaled 1.90.6 is running, logged in as node1.example.ts.net (100.101.102.103)", fix: null, durationMs: 40 },
  { id: "tags", group: "tailnet", status: "fail", finding: "missing tag:monitor (has no tags)", fix: "sudo tailscale up --advertise-tags=tag:monitor", durationMs: 40 },
  { id: "scraper-path", group: "tailnet", status: "warn", finding: "relayed through DERP fra to scraper.example.ts.net, 45.6 ms", fix: "give this host's subnet a global /64 by router advertisements", durationMs: 41 },
  { id: "firewall-port", group: "firewall", status: "skip", finding: "no firewall verdicts: the firewall probe did not run in this build of edge-agent", fix: "edge-agent firewall check", durationMs: 40 },
];
const report: Report = { checks, summary: summarise(checks, 1234, false), install: null };

describe("renderText", () => {
  it("ascii: groups, [marks], fixes under what is not ok, a summary line", () => {
    expect(renderText(report, "ascii")).toMatchInlineSnapshot(`
      "Config
        [ok]   config         /etc/edge-agent/config.yaml is valid (scraper "scraper")

      Addresses
        [ok]   ipv6-prefix    2001:db8:100:1::/64 on eth0, inside 2001:db8:100::/56

      Tailnet
        [ok]   tailscaled     tailscaled 1.90.6 is running, logged in as node1.example.ts.net (100.101.102.103)
        [FAIL] tags           missing tag:monitor (has no tags)
                              fix: sudo tailscale up --advertise-tags=tag:monitor
        [warn] scraper-path   relayed through DERP fra to scraper.example.ts.net, 45.6 ms
                              fix: give this host's subnet a global /64 by router advertisements

      Firewall
        [skip] firewall-port  no firewall verdicts: the firewall probe did not run in this build of edge-agent
                              fix: edge-agent firewall check

      6 checks: 3 ok, 1 warning, 1 failure, 1 skipped in 1.2 s — monitoring is broken here
      "
    `);
  });
  it("tty: ✓ ! ✗ - marks in colour", () => {
    // Escape codes spelled out so the snapshot is readable: <32> is ESC[32m (green).
    expect(renderText(report, "tty").replace(/\x1b\[(\d+)m/g, "<$1>")).toMatchInlineSnapshot(`
      "<1>Config<0>
        <32>✓<0> config         /etc/edge-agent/config.yaml is valid (scraper "scraper")

      <1>Addresses<0>
        <32>✓<0> ipv6-prefix    2001:db8:100:1::/64 on eth0, inside 2001:db8:100::/56

      <1>Tailnet<0>
        <32>✓<0> tailscaled     tailscaled 1.90.6 is running, logged in as node1.example.ts.net (100.101.102.103)
        <31>✗<0> tags           missing tag:monitor (has no tags)
                         <2>fix:<0> sudo tailscale up --advertise-tags=tag:monitor
        <33>!<0> scraper-path   relayed through DERP fra to scraper.example.ts.net, 45.6 ms
                         <2>fix:<0> give this host's subnet a global /64 by router advertisements

      <1>Firewall<0>
        <2>-<0> <2>firewall-port  no firewall verdicts: the firewall probe did not run in this build of edge-agent<0>
                         <2>fix:<0> edge-agent firewall check

      <31>6 checks: 3 ok, 1 warning, 1 failure, 1 skipped in 1.2 s — monitoring is broken here<0>
      "
    `);
  });
  it("says when everything is fine, or the config is invalid", () => {
    const good = checks.slice(0, 3);
    expect(renderText({ checks: good, summary: summarise(good, 80, false), install: null }, "ascii").trim().split("\n").pop()).toBe("3 checks: 3 ok, 0 warnings, 0 failures, 0 skipped in 80 ms — all good");
    expect(renderText({ checks: good, summary: summarise(good, 80, true), install: null }, "ascii")).toContain("— the config is invalid");
  });
});

describe("renderJson", () => {
  it("prints checks with id, group, status, finding, fix, durationMs and a summary", () => {
    expect(JSON.parse(renderJson(report))).toMatchInlineSnapshot(`
      {
        "checks": [
          {
            "durationMs": 1,
            "finding": "/etc/edge-agent/config.yaml is valid (scraper "scraper")",
            "fix": null,
            "group": "config",
            "id": "config",
            "status": "ok",
          },
          {
            "durationMs": 40,
            "finding": "2001:db8:100:1::/64 on eth0, inside 2001:db8:100::/56",
            "fix": null,
            "group": "addresses",
            "id": "ipv6-prefix",
            "status": "ok",
          },
          {
            "durationMs": 40,
            "finding": "tailscaled 1.90.6 is running, logged in as node1.example.ts.net (100.101.102.103)",
            "fix": null,
            "group": "tailnet",
            "id": "tailscaled",
            "status": "ok",
          },
          {
            "durationMs": 40,
            "finding": "missing tag:monitor (has no tags)",
            "fix": "sudo tailscale up --advertise-tags=tag:monitor",
            "group": "tailnet",
            "id": "tags",
            "status": "fail",
          },
          {
            "durationMs": 41,
            "finding": "relayed through DERP fra to scraper.example.ts.net, 45.6 ms",
            "fix": "give this host's subnet a global /64 by router advertisements",
            "group": "tailnet",
            "id": "scraper-path",
            "status": "warn",
          },
          {
            "durationMs": 40,
            "finding": "no firewall verdicts: the firewall probe did not run in this build of edge-agent",
            "fix": "edge-agent firewall check",
            "group": "firewall",
            "id": "firewall-port",
            "status": "skip",
          },
        ],
        "install": null,
        "summary": {
          "durationMs": 1234,
          "exitCode": 1,
          "fail": 1,
          "ok": 3,
          "skip": 1,
          "total": 6,
          "warn": 1,
        },
      }
    `);
  });
});

describe("textStyle", () => {
  it("picks marks on a terminal, ASCII for pipes, NO_COLOR and TERM=dumb; FORCE_COLOR forces the terminal form", () => {
    expect(textStyle({}, true)).toBe("tty");
    expect(textStyle({}, false)).toBe("ascii");
    expect(textStyle({ NO_COLOR: "1" }, true)).toBe("ascii");
    expect(textStyle({ TERM: "dumb" }, true)).toBe("ascii");
    expect(textStyle({ FORCE_COLOR: "1" }, false)).toBe("tty");
    expect(textStyle({ FORCE_COLOR: "0" }, true)).toBe("tty");
    expect(textStyle({ FORCE_COLOR: "0" }, false)).toBe("ascii");
    expect(textStyle({ FORCE_COLOR: "1", NO_COLOR: "1" }, true)).toBe("ascii");
  });
});
