// The README's High availability setup in the netns lab (`scripts/lab up --pair`): two scrapers,
// each with its receiver, Prometheus (the packaged rules) and Alertmanager, the two Alertmanagers
// clustered; every node sends to both. With one scraper stopped while a node's firewall breaks
// and then started again, neither receiver misses a notification, the cluster sends the alert
// once, and the two receivers' file_sd files are the same.
import { expect, it } from "vitest";
import { execIn, startService, stopService, type LabState } from "../../scripts/netns-lab/lab";
import { agentNodes, bare, nodeByName, scraperNodes } from "../../scripts/netns-lab/topology";
import {
  clusterStatus,
  dropTailscaledRule,
  fileSdText,
  hasAlert,
  lastSequence,
  missingSequences,
  promQuery,
  receiverEvents,
  webhookNotifications,
  type WebhookNotification,
} from "../helpers/lab";
import { labForFile } from "../helpers/lab-up";
import { waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";

const NODE_NAMES = agentNodes().map((n) => n.name);
const [A, B] = scraperNodes(true).map((s) => s.name); // scraper, scraper2
const SCRAPER_SERVICES = ["alertmanager", "edge-agent-receive", "prometheus"]; // start order
const SEEN_WITHIN = 20_000; // probe cycle, inform, scrape, rule evaluation (for: 2s), group_wait: seconds
/** Alertmanager's --cluster.peer-timeout (15 s): how long the later peer waits before it notifies. */
const PEER_TIMEOUT = 15_000;
const ALERT = { alertname: "EdgeFirewallBlocksTailscale", node: "svc1", check: "inbound-ipv6" };

describeWith(
  { root: true, binaries: ["python3", "ip", "nsenter", "unshare", "nft", "curl", "snmpd", "snmpget", "prometheus", "prometheus-alertmanager", "prometheus-node-exporter"] },
  "the netns lab with two scrapers (README: High availability)",
  () => {
    const requireLab = labForFile("p", { pair: true });

    /** The notifications that said ALERT fires. */
    const alertNotifications = (state: LabState): WebhookNotification[] =>
      webhookNotifications(state).filter((n) => n.alerts.some((a) => a.status === "firing" && Object.entries(ALERT).every(([k, v]) => a.labels[k] === v)));
    const firewallDropAt = (state: LabState, scraper: string, after: number): boolean =>
      receiverEvents(state, scraper)
        .slice(after)
        .some((e) => e.node === "svc1" && e.event === "firewallChanged" && e.summary.includes("inbound-ipv6 drop,"));

    it("runs a receiver, Prometheus and Alertmanager on both scrapers, and the two Alertmanagers form one cluster", async () => {
      const state = requireLab();
      const services = state.processes.map((p) => p.key);
      for (const scraper of [A, B]) for (const s of SCRAPER_SERVICES) expect(services).toContain(`${scraper}/${s}`);
      const peers = await waitFor("both Alertmanagers ready with two peers", () => {
        const status = [A, B].map((s) => clusterStatus(state, s));
        return status.every((s) => s.status === "ready" && s.peers === 2) ? status : null;
      }, 30_000, 500);
      expect(peers).toEqual([{ status: "ready", peers: 2 }, { status: "ready", peers: 2 }]);
    });

    it("one scraper stopped while a node's firewall breaks: no notification lost at either receiver, one alert notification, the same file_sd", async () => {
      const state = requireLab();
      await waitFor("every node's notifications at both receivers, and both file_sd files listing every node", () =>
        [A, B].every((s) => {
          const reported = new Set(receiverEvents(state, s).map((e) => e.node));
          const sd = fileSdText(state, s);
          return NODE_NAMES.every((n) => reported.has(n) && sd.includes(`${n}:9100`));
        }), SEEN_WITHIN, 250);
      expect(alertNotifications(state), "the alert before the firewall broke").toEqual([]);

      for (const s of [...SCRAPER_SERVICES].reverse()) await stopService(B, s, state.dir);
      const bEventsAtStop = receiverEvents(state, B).length;
      const aEventsAtBreak = receiverEvents(state, A).length;
      execIn("svc1", "nft", ["-f", "-"], state.dir, dropTailscaledRule());
      try {
        await waitFor(`svc1's firewallChanged at ${A}`, () => firewallDropAt(state, A, aEventsAtBreak), SEEN_WITHIN, 250);
        // The rules' expression, the other Prometheus server and Alertmanager being away: one notification.
        await waitFor(`${ALERT.alertname} for svc1 notified by ${A}'s Alertmanager alone`, () => alertNotifications(state).length > 0, SEEN_WITHIN, 250);

        const missed = Object.fromEntries(NODE_NAMES.map((n) => [n, lastSequence(receiverEvents(state, A), n)]));
        for (const s of SCRAPER_SERVICES) await startService(B, s, state.dir);
        // The nodes' outboxes replay to the returned receiver what it missed (with backoff).
        await waitFor(`svc1's firewallChanged at ${B} after its return`, () => firewallDropAt(state, B, bEventsAtStop), 90_000, 250);
        await waitFor(`${B}'s receiver to have every notification sent while it was away`, () => NODE_NAMES.every((n) => lastSequence(receiverEvents(state, B), n) >= missed[n]), 90_000, 500);
        // The returned Prometheus fires the alert too and sends it to both Alertmanagers; the
        // returned Alertmanager has rejoined and holds it.
        await waitFor(`${B}'s Prometheus firing ${ALERT.alertname} for svc1`, () => promQuery(state, `ALERTS{alertname="${ALERT.alertname}",node="svc1",alertstate="firing"}`, B).length > 0, SEEN_WITHIN, 500);
        await waitFor(`${B}'s Alertmanager back in the cluster, holding the alert`, () => {
          const status = clusterStatus(state, B);
          return status.status === "ready" && status.peers === 2 && hasAlert(state, ALERT, B);
        }, 30_000, 500);
        // Whichever peer is later waits the peer timeout before it would notify: wait past it.
        await new Promise((r) => setTimeout(r, PEER_TIMEOUT + 8_000));
        // One, and from the Alertmanager that was up when the node broke: the returned one sent none.
        const sent = alertNotifications(state).map((n) => ({ from: n.from, receivedAt: n.receivedAt }));
        expect(sent, `notifications of ${ALERT.alertname} for svc1 (the webhook sink's log)`).toHaveLength(1);
        expect(sent[0].from, `the sender's address (${A} is ${bare(nodeByName(A).uplink.v6!)})`).toBe(bare(nodeByName(A).uplink.v6!));

        for (const s of [A, B]) {
          for (const n of NODE_NAMES) expect(missingSequences(receiverEvents(state, s), n), `${s}: ${n}'s sequence numbers it never saw`).toEqual([]);
        }
        const sd = await waitFor("the two file_sd files the same", () => {
          const [a, b] = [fileSdText(state, A), fileSdText(state, B)];
          return a !== "" && a === b ? a : null;
        }, SEEN_WITHIN, 250).catch(() => null);
        expect(fileSdText(state, B), `${B}'s file_sd against ${A}'s`).toBe(fileSdText(state, A));
        for (const n of NODE_NAMES) expect(sd, `file_sd lists ${n}`).toContain(`${n}:9100`);
      } finally {
        execIn("svc1", "nft", ["delete", "table", "inet", "lab_break"], state.dir);
        for (const s of SCRAPER_SERVICES) await startService(B, s, state.dir);
      }
    }, 300_000);
  },
);
