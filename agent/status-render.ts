// Renders NodeState for a person: the `status` command's text form. Pure.
import type { NodeState, TailnetState } from "./state/node-state";

function yesNo(value: boolean | null, unknown = "n/a"): string {
  return value === null ? unknown : value ? "yes" : "no";
}

export function renderStatus(state: NodeState): string {
  const lines: string[] = [];
  const h = state.host;
  lines.push(h.state === "ok" ? `host      ${h.hostname} — ${h.os}, kernel ${h.kernel}, ${h.model} (${h.arch})` : `host      unavailable: ${h.error}`);

  const v6 = state.ipv6;
  if (v6.state === "unavailable") lines.push(`ipv6      unavailable: ${v6.error}`);
  else if (v6.prefixes.length === 0) lines.push("ipv6      no global IPv6 address");
  else {
    lines.push(`ipv6      primary ${v6.primary ?? "none"}`);
    for (const p of v6.prefixes) {
      const alloc = p.inAllocation === null ? "" : p.inAllocation ? " (in allocation)" : " (OUTSIDE the allocations)";
      lines.push(`          ${p.prefix} on ${p.interface}${alloc}`);
      for (const a of p.addresses) lines.push(`            ${a.address}/${a.prefixLength}${a.flags.length ? ` [${a.flags.join(", ")}]` : ""}`);
    }
  }

  const t = state.tailnet;
  if (t.state === "unavailable") lines.push(`tailnet   unavailable: ${(t as { error: string }).error}`);
  else {
    const tn = t as TailnetState;
    lines.push(`tailnet   ${[tn.state, "as", tn.dnsName || tn.hostname, ...tn.ips].join(" ")}`);
    lines.push(`          tags ${tn.tags.length ? tn.tags.join(", ") : "(none)"}${tn.missingTags.length ? `; missing ${tn.missingTags.join(", ")}` : ""}`);
    if (tn.port !== null) lines.push(`          tailscaled bound UDP port ${tn.port}`);
    const s = tn.scraper;
    if (!s.found) lines.push(`          scraper not found${s.error ? `: ${s.error}` : ""}`);
    else {
      const how =
        s.path === "direct" ? `direct ${s.endpoint} (${s.family})` : s.path === "relay" ? `relayed via DERP ${s.relay ?? "?"}` : s.path === "peer-relay" ? `peer-relay ${s.relay}` : s.path;
      lines.push(`          scraper ${s.dnsName ?? s.hostname}: ${how}${s.latencyMs !== null ? `, ${s.latencyMs} ms` : ""}${s.error ? ` (${s.error})` : ""}`);
    }
  }

  const ne = state.services.nodeExporter;
  lines.push(`services  node-exporter ${ne.up ? `up${ne.version ? ` ${ne.version}` : ""}` : `DOWN (${ne.error})`}, on the tailnet IP: ${yesNo(ne.tailnetReachable)}`);
  const sd = state.services.snmpd;
  lines.push(`          snmpd ${sd.up ? "up" : `DOWN (${sd.error})`}, on the tailnet IP: ${yesNo(sd.tailnetReachable)}`);

  const fw = state.firewall;
  if (fw.state === "unavailable") lines.push(`firewall  unavailable: ${fw.error}`);
  else {
    lines.push(`firewall  UDP ${fw.port} (${fw.portSource}), rulesets: ${fw.backend}`);
    for (const c of fw.checks) lines.push(`          ${c.id.padEnd(13)} ${c.verdict.toUpperCase().padEnd(7)} ${c.verdict === "unknown" ? c.reason ?? c.decidedBy : c.decidedBy}`);
    for (const note of fw.notes) lines.push(`          note: ${note}`);
  }
  return lines.join("\n") + "\n";
}
