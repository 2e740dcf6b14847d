// What a finding says is missing from the host, and the one command that installs it: Debian's
// apt or an rpm-based host's dnf, chosen from /etc/os-release. Findings carry the code, never
// the command's text, so doctor's closing line gathers them without reading any fix. Pure.

/** Something doctor found not installed; each check that finds one says which. */
export type Missing = "tailscale" | "node-exporter" | "snmpd" | "nftables";

/** The package manager the host's distribution uses; null when /etc/os-release names neither family. */
export type PackageTool = "apt" | "dnf";

const PACKAGES: Record<Exclude<Missing, "tailscale">, Record<PackageTool, string>> = {
  "node-exporter": { apt: "prometheus-node-exporter", dnf: "golang-github-prometheus-node-exporter" },
  snmpd: { apt: "snmpd", dnf: "net-snmp" },
  nftables: { apt: "nftables", dnf: "nftables" },
};

/** Tailscale's own installer: it adds Tailscale's package repository for apt and dnf alike. */
const TAILSCALE = "curl -fsSL https://tailscale.com/install.sh | sh";

const DEBIAN_LIKE = ["debian", "ubuntu"];
const RPM_LIKE = ["fedora", "rhel", "centos", "rocky", "almalinux"];

/** The package tool from /etc/os-release's ID and ID_LIKE (e.g. ID=rocky ID_LIKE="rhel centos fedora"). */
export function packageToolOf(osRelease: string): PackageTool | null {
  const field = (name: string) => {
    const line = osRelease.split("\n").map((l) => /^([A-Z_]+)=(.*)$/.exec(l.trim())).find((m) => m?.[1] === name);
    return line ? line[2].replace(/^(["'])(.*)\1$/, "$2") : "";
  };
  const ids = [field("ID"), ...field("ID_LIKE").split(/\s+/)].map((id) => id.toLowerCase()).filter(Boolean);
  if (ids.some((id) => DEBIAN_LIKE.includes(id))) return "apt";
  if (ids.some((id) => RPM_LIKE.includes(id))) return "dnf";
  return null;
}

/** The order the closing line names them in: the distribution's packages, then Tailscale's. */
const ORDER: readonly Missing[] = ["node-exporter", "snmpd", "nftables", "tailscale"];

/** The command that installs everything listed, once each. */
export function installCommand(missing: readonly Missing[], tool: PackageTool | null): string {
  const wanted = ORDER.filter((m) => missing.includes(m));
  const packages = wanted.filter((m): m is Exclude<Missing, "tailscale"> => m !== "tailscale");
  const steps: string[] = [];
  if (packages.length) {
    steps.push(
      tool
        ? `sudo ${tool} install ${packages.map((p) => PACKAGES[p][tool]).join(" ")}`
        : `install ${packages.map((p) => `${PACKAGES[p].apt} (Debian's name; ${PACKAGES[p].dnf} on Fedora)`).join(", ")} with this system's package manager`,
    );
  }
  if (wanted.includes("tailscale")) steps.push(TAILSCALE);
  return steps.join(" && ");
}

/**
 * doctor's closing line: one command for everything the findings say is missing, when more than
 * one thing is (a single one is already its finding's fix). Null when there is nothing to gather.
 */
export function installLine(findings: readonly { missing?: Missing }[], tool: PackageTool | null): string | null {
  const missing = findings.flatMap((f) => (f.missing ? [f.missing] : []));
  if (new Set(missing).size < 2) return null;
  return installCommand(missing, tool);
}
