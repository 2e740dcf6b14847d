// doctor's install fixes: apt or dnf from os-release, the packages each missing thing needs, and
// the closing line that installs everything the findings found missing, gathered by code.
import { describe, expect, it } from "vitest";
import { configFromObject } from "../../agent/config";
import type { Check } from "../../agent/doctor/check";
import { runDoctor } from "../../agent/doctor/doctor";
import { hostPackageTool } from "../../agent/doctor/facts/package-tool";
import { notInstalled, summarise, type CheckResult } from "../../agent/doctor/finding";
import { installCommand, installLine, packageToolOf, type Missing } from "../../agent/doctor/install";
import { renderText } from "../../agent/doctor/render-text";

describe("packageToolOf", () => {
  it("reads ID and ID_LIKE, quoted or not", () => {
    expect(packageToolOf('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')).toBe("apt");
    expect(packageToolOf("ID=ubuntu\nID_LIKE=debian\n")).toBe("apt");
    expect(packageToolOf("ID=raspbian\nID_LIKE=debian\n")).toBe("apt");
    expect(packageToolOf('ID="fedora"\n')).toBe("dnf");
    expect(packageToolOf('ID="rocky"\nID_LIKE="rhel centos fedora"\n')).toBe("dnf");
    expect(packageToolOf("ID=almalinux\nID_LIKE='rhel centos fedora'\n")).toBe("dnf");
    expect(packageToolOf("ID=alpine\n")).toBeNull();
    expect(packageToolOf("")).toBeNull();
  });
});

describe("installCommand", () => {
  it("names each distribution's packages, then Tailscale's installer", () => {
    expect(installCommand(["snmpd"], "apt")).toBe("sudo apt install snmpd");
    expect(installCommand(["tailscale", "snmpd", "node-exporter", "nftables", "snmpd"], "apt")).toBe(
      "sudo apt install prometheus-node-exporter snmpd nftables && curl -fsSL https://tailscale.com/install.sh | sh",
    );
    expect(installCommand(["snmpd", "node-exporter"], "dnf")).toBe("sudo dnf install golang-github-prometheus-node-exporter net-snmp");
    expect(installCommand(["tailscale"], null)).toBe("curl -fsSL https://tailscale.com/install.sh | sh");
    expect(installCommand(["snmpd"], null)).toBe("install snmpd (Debian's name; net-snmp on Fedora) with this system's package manager");
  });
});

describe("the closing install line", () => {
  const result = (id: string, missing?: CheckResult["missing"]): CheckResult => ({ id, group: "services", status: missing ? "fail" : "ok", finding: id, fix: missing ? "x" : null, missing, durationMs: 1 });

  it("gathers the findings' missing codes when more than one thing is missing, never their fix text", () => {
    const checks = [result("tailscaled", "tailscale"), result("firewall-port", "nftables"), result("node-exporter", "node-exporter"), result("snmpd", "snmpd"), result("config")];
    expect(installLine(checks, "apt")).toBe("sudo apt install prometheus-node-exporter snmpd nftables && curl -fsSL https://tailscale.com/install.sh | sh");
    expect(installLine(checks, "dnf")).toBe("sudo dnf install golang-github-prometheus-node-exporter net-snmp nftables && curl -fsSL https://tailscale.com/install.sh | sh");
    // One missing thing: its own finding's fix already installs it.
    expect(installLine([result("snmpd", "snmpd"), result("config")], "apt")).toBeNull();
    expect(installLine([result("config")], "apt")).toBeNull();
  });

  it("is the report's last line before the summary", () => {
    const checks = [result("node-exporter", "node-exporter"), result("snmpd", "snmpd")];
    const text = renderText({ checks, summary: summarise(checks, 10, false), install: installLine(checks, "apt") }, "ascii");
    expect(text.trim().split("\n").slice(-3)).toEqual(["Install what is missing: sudo apt install prometheus-node-exporter snmpd", "", "2 checks: 0 ok, 0 warnings, 2 failures, 0 skipped in 10 ms — monitoring is broken here"]);
  });
});

describe("a doctor run", () => {
  it("ends with the install line for this host's package tool when its checks find several programs missing", async () => {
    const missing = (id: string, what: Missing): Check => ({ id, group: "services", scope: "any", summary: id, timeoutMs: () => 1000, run: async () => notInstalled("fail", `${id} is not installed`, installCommand([what], "apt"), what) });
    const load = { path: "/e.yaml", config: configFromObject({}, "/e.yaml"), error: null, mode: null };
    const report = await runDoctor(load, [missing("snmpd", "snmpd"), missing("node-exporter", "node-exporter")], new Set());
    expect(report.install).toBe(installCommand(["snmpd", "node-exporter"], hostPackageTool()));
    const one = await runDoctor(load, [missing("snmpd", "snmpd")], new Set());
    expect(one.install).toBeNull();
  });
});
