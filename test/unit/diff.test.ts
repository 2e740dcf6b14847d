// The events between two snapshots as a log reader or a trap receiver sees them: one per changed
// subject, a source gone unavailable saying why, and what a first snapshot finds missing.
import { describe, expect, it } from "vitest";
import { diff, problemsAtStart } from "../../agent/diff";
import { runningTailnet, type NodeState, type TailnetPolicyState } from "../../agent/state/node-state";
import { sampleNodeState } from "../helpers/sample-node-state";

const NO_SOCKET = "tailscaled is not running here: no LocalAPI socket at /run/tailscale/tailscaled.sock and no tailscale CLI (install Tailscale, then run: sudo tailscale up)";

const TAILNET_GONE = { state: "unavailable", code: "tailnet-unavailable", error: `tailscaled's status could not be read: ${NO_SOCKET}` } as const;

function withParts(parts: Partial<NodeState>): NodeState {
  return { ...sampleNodeState(), ...parts };
}

describe("diff", () => {
  it("a start is agentStarted only, however much is missing", () => {
    const down = withParts({ tailnet: { state: "unavailable", code: "not-installed", error: NO_SOCKET, missingTags: ["tag:monitor"], policy: TAILNET_GONE } });
    expect(diff(null, down)).toEqual([{ kind: "agentStarted", summary: "agent 0.1.0 started" }]);
  });

  it("the same snapshot twice is no event", () => {
    expect(diff(sampleNodeState(), sampleNodeState())).toEqual([]);
  });

  it("a firewall probe gone unavailable says why; the state it left is named without a reason", () => {
    const ok = sampleNodeState();
    const timedOut = withParts({ firewall: { state: "unavailable", code: "timeout", error: "the firewall probe did not answer within 4000 ms" } });
    expect(diff(ok, timedOut)).toEqual([
      {
        kind: "firewallChanged",
        summary: "firewall verdicts unavailable: the firewall probe did not answer within 4000 ms (was: firewall on UDP 41641: inbound-ipv6 accept, inbound-ipv4 drop, outbound-ipv6 accept, outbound-ipv4 accept)",
      },
    ]);
    expect(diff(timedOut, ok)[0].summary).toBe("firewall on UDP 41641: inbound-ipv6 accept, inbound-ipv4 drop, outbound-ipv6 accept, outbound-ipv4 accept (was: firewall verdicts unavailable)");
  });

  it("tailscaled going away is a tailnet change saying why, and a path change to unknown", () => {
    const gone = withParts({ tailnet: { state: "unavailable", code: "not-installed", error: NO_SOCKET, missingTags: ["tag:monitor"], policy: TAILNET_GONE } });
    const events = diff(sampleNodeState(), gone);
    expect(events.map((e) => e.kind)).toEqual(["tailnetChanged", "pathChanged", "policyChanged"]);
    expect(events[0].summary).toBe(`tailscaled unavailable: ${NO_SOCKET} (was: tailnet Running as host1.tail1234.ts.net, tags tag:monitor)`);
    expect(events[1].summary).toBe("path to the scraper unknown (tailscaled unavailable) (was: path to the scraper direct over ipv6 ([2001:db8:100:2::1]:41641))");
    expect(events[2].summary).toBe(`tailnet policy verdicts unavailable: tailscaled's status could not be read: ${NO_SOCKET} (was: tailnet policy: scrape-node-exporter accept, poll-snmpd accept)`);
  });

  it("a tailnet policy verdict turning to drop is policyChanged, naming both flows", () => {
    const dropped = sampleNodeState();
    const policy = dropped.tailnet.policy as TailnetPolicyState;
    policy.flows[0] = { id: "scrape-node-exporter", verdict: "drop", decidedBy: "default deny: no rule of 1 admits tcp/9100 from 100.64.0.1 to 100.64.0.10" };
    expect(diff(sampleNodeState(), dropped)).toEqual([
      { kind: "policyChanged", summary: "tailnet policy: scrape-node-exporter drop, poll-snmpd accept (was: tailnet policy: scrape-node-exporter accept, poll-snmpd accept)" },
    ]);
    // The rule's text alone changing (same verdicts) is no event.
    const reworded = sampleNodeState();
    (reworded.tailnet.policy as TailnetPolicyState).flows[1].decidedBy = "rule 7: {}";
    expect(diff(sampleNodeState(), reworded)).toEqual([]);
  });

  it("an address table that cannot be read says why", () => {
    const unreadable = withParts({ ipv6: { state: "unavailable", code: "ipv6-disabled", error: "/proc/net/if_inet6 does not exist: IPv6 is disabled in this kernel or namespace" } });
    expect(diff(sampleNodeState(), unreadable)[0]).toEqual({
      kind: "addressChanged",
      summary: "IPv6 addresses unavailable: /proc/net/if_inet6 does not exist: IPv6 is disabled in this kernel or namespace (was: primary /64 2001:db8:100:1::/64)",
    });
  });

  it("a service going down carries its error, coming back is serviceUp", () => {
    const down = sampleNodeState({ snmpdUp: false });
    down.services.snmpd.error = "no answer from snmpd at 127.0.0.1:161 (timeout)";
    expect(diff(sampleNodeState(), down)).toEqual([{ kind: "serviceDown", service: "snmpd", summary: "snmpd down: no answer from snmpd at 127.0.0.1:161 (timeout)" }]);
    expect(diff(down, sampleNodeState())).toEqual([{ kind: "serviceUp", service: "snmpd", summary: "snmpd up" }]);
  });
});

describe("problemsAtStart", () => {
  it("is empty for a host with everything in place", () => {
    expect(problemsAtStart(sampleNodeState())).toEqual([]);
  });

  it("names each missing source and down service with its reason, in the order status prints them", () => {
    const bare = sampleNodeState({ nodeExporterUp: false, snmpdUp: false });
    bare.services.nodeExporter.error = "http://127.0.0.1:9100/metrics: connect ECONNREFUSED 127.0.0.1:9100";
    const state: NodeState = {
      ...bare,
      host: { state: "unavailable", code: "timeout", error: "the host probe did not answer within 2000 ms" },
      tailnet: { state: "unavailable", code: "not-installed", error: NO_SOCKET, missingTags: ["tag:monitor"], policy: TAILNET_GONE },
      firewall: { state: "unavailable", code: "timeout", error: "the firewall probe did not answer within 4000 ms" },
    };
    expect(problemsAtStart(state)).toEqual([
      "host facts unavailable: the host probe did not answer within 2000 ms",
      `tailscaled unavailable: ${NO_SOCKET}`,
      "node-exporter down: http://127.0.0.1:9100/metrics: connect ECONNREFUSED 127.0.0.1:9100",
      "snmpd down: no answer",
      "firewall verdicts unavailable: the firewall probe did not answer within 4000 ms",
    ]);
  });

  it("a tailscaled that answers but is not Running says what to run", () => {
    const state = sampleNodeState();
    const tailnet = runningTailnet(state.tailnet)!;
    const loggedOut = { ...state, tailnet: { ...tailnet, policy: state.tailnet.policy, state: "NeedsLogin", scraper: { ...tailnet.scraper, error: "tailscaled is NeedsLogin, not Running: log in with: sudo tailscale up" } } };
    expect(problemsAtStart(loggedOut)).toEqual(["tailscaled is NeedsLogin, not Running: log in with: sudo tailscale up"]);
  });
});
