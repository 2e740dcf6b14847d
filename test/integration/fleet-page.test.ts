// The receiver's fleet page as a person opens it: `edge-agent receive` started as its systemd
// unit starts it, fed real notifications by Net-SNMP's snmptrap, and the page at / read by
// headless Chromium — its DOM (each node's row and values, nothing from the network turned into
// markup) and a phone-width screenshot, kept in the temporary directory for a person to look at.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ObjectValues } from "../../agent/snmp/state-objects";
import { dumpDom, screenshot } from "../helpers/chromium";
import { cellText, pageRows } from "../helpers/fleet-page-rows";
import { freeTcpPort, freeUdpPort, waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import type { Daemon } from "../helpers/process";
import { startUnit } from "../helpers/unit-exec";
import { edgeValues, snmptrap, snmptrapVarbindArgs, tree } from "./receiver-support";

const COMMUNITY = "page-community";

/** GET without Accept-Encoding (fetch always asks for gzip), as curl or a script would. */
function rawGet(url: string): Promise<{ encoding: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d)).on("end", () => resolve({ encoding: res.headers["content-encoding"], body }));
    }).on("error", reject);
  });
}
const HOSTILE = '<img src=x onerror=alert(1)>';

/** Where the phone-width screenshot is kept after the run. */
export const PHONE_SCREENSHOT = join(tmpdir(), "edge-agent-fleet-page-390x844.png");

describeWith({ binaries: ["snmptrap", "chromium"] }, "fleet page (edge-agent receive as packaged, read by Chromium)", () => {
  let dir: string;
  let port: number;
  let url: string;
  let child: Daemon;
  let sequence = 0;

  const send = async (event: "heartbeat" | "pathChanged" | "serviceDown", values: ObjectValues) => {
    const sent = await snmptrap(["-v2c", "-Ci", "-r", "1", "-t", "2", "-c", COMMUNITY, `127.0.0.1:${port}`, "", tree.notificationOid(event), ...snmptrapVarbindArgs(values)]);
    expect(sent, sent.stderr).toMatchObject({ code: 0 });
  };
  const page = () => fetch(url).then((res) => res.text());

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ea-fleet-page-"));
    port = await freeUdpPort();
    const metricsPort = await freeTcpPort();
    url = `http://127.0.0.1:${metricsPort}/`;
    const config = join(dir, "config.yaml");
    writeFileSync(
      config,
      [
        "receiver:",
        `  listen: ["udp:127.0.0.1:${port}"]`,
        `  communities: [${COMMUNITY}]`,
        `  metrics: "127.0.0.1:${metricsPort}"`,
        `  fileSd: ${join(dir, "sd.yml")}`,
        `  state: ${join(dir, "fleet.json")}`,
      ].join("\n"),
    );
    child = startUnit(["receive", "--config", config], { unit: "edge-agent-receiver.service" });
    await waitFor("receiver started", () => child.output().includes('"msg":"receiver started"'), 20_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${child.output()}`);
    });
    await send("heartbeat", edgeValues("web1", ++sequence));
    await send("pathChanged", edgeValues("far2", ++sequence, { edgeAgentScraperPath: "relay", edgeAgentScraperFamily: "none", edgeAgentScraperEndpoint: "fra", edgeAgentFirewallInboundIpv4: "drop", edgeAgentSnmpdUp: false, edgeAgentTailnetTags: "", edgeAgentPrimaryPrefix: "", edgeAgentPrefixInAllocation: "unknown" }));
    // The receiver refuses a node name that is not a DNS label; every other value is as sent.
    await send("heartbeat", edgeValues("evil", ++sequence, { edgeAgentHostName: HOSTILE, edgeAgentTailnetTags: "<b>tag:monitor</b>", edgeAgentScraperEndpoint: '"><script>alert(2)</script>', edgeAgentVersion: "<i>9</i>" }));
    await waitFor("all three nodes on the page", async () => pageRows(await page()).length === 3, 10_000, 100).catch((e) => {
      throw new Error(`${(e as Error).message}\n${child.output()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await child?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("shows each node's row with the values it reported, problems first", async () => {
    const rows = pageRows(await dumpDom(url));
    expect(rows.map((r) => [r.node, r.problem])).toEqual([["far2", true], ["evil", false], ["web1", false]]);
    const [far2, , web1] = rows;
    expect(cellText(web1, "/64")).toBe("2001:db8:100:1::/64 | allocation inside");
    expect(cellText(web1, "Tags")).toBe("tag:monitor");
    expect(cellText(web1, "Path")).toBe("direct | over ipv6 | to [2001:db8:200:1::1]:41641");
    expect(cellText(web1, "Services")).toBe("node_exporter up | snmpd up");
    expect(cellText(web1, "Firewall")).toContain("UDP port 41641 | inbound-ipv6 accept | inbound-ipv4 accept");
    expect(cellText(web1, "Report")).toMatch(/^reporting \| last \d\d:\d\d:\d\d UTC \| event heartbeat$/);

    expect(cellText(far2, "Report")).toMatch(/^reporting \| last .* \| event pathChanged$/);
    expect(far2.cells.Path[0]).toEqual({ text: "relay", tone: "bad" });
    expect(cellText(far2, "Path")).toBe("relay | via fra");
    expect(far2.cells["/64"][0]).toEqual({ text: "none", tone: "bad" });
    expect(far2.cells.Tags[0]).toEqual({ text: "none", tone: "bad" });
    expect(far2.cells.Services.filter((l) => l.tone === "bad").map((l) => l.text)).toEqual(["snmpd down"]);
    expect(far2.cells.Firewall.filter((l) => l.tone === "bad").map((l) => l.text)).toEqual(["inbound-ipv4 drop"]);
  });

  it("shows what a node sent as text: no element made from its host name, tags, endpoint or version", async () => {
    const dom = await dumpDom(url);
    expect(dom).not.toMatch(/<img|<script|<b>|<i>/i);
    const hostile = pageRows(dom).find((r) => r.node === "evil")!;
    expect(cellText(hostile, "Agent")).toBe("<i>9</i>");
    expect(cellText(hostile, "Host")).toBe(HOSTILE);
    expect(cellText(hostile, "Tags")).toBe("<b>tag:monitor</b>");
    expect(cellText(hostile, "Path")).toBe('direct | over ipv6 | to "><script>alert(2)</script>');
  });

  it("is served from memory until the fleet changes, gzipped to who takes it, with a policy that forbids any script", async () => {
    const head = await fetch(url, { method: "HEAD", headers: { "Accept-Encoding": "gzip" } });
    expect(head.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(head.headers.get("content-encoding")).toBe("gzip");
    expect(head.headers.get("content-security-policy")).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+';/);
    const plain = await rawGet(url);
    expect(plain.encoding).toBeUndefined();
    expect(plain.body).toMatch(/^<!DOCTYPE html>/);
    const first = await page();
    await new Promise((r) => setTimeout(r, 1100));
    // The same rendering, "Rendered <time>" included, a second later.
    expect(await page()).toBe(first);
    await send("serviceDown", edgeValues("web1", ++sequence, { edgeAgentNodeExporterUp: false, edgeAgentEventService: "nodeExporter" }));
    const web1 = await waitFor("web1's node_exporter down on the page", async () => pageRows(await page()).find((r) => r.node === "web1" && r.problem), 10_000, 100);
    expect(cellText(web1, "Services")).toBe("node_exporter down | snmpd up");
  });

  it("renders at phone width (390x844) into a screenshot", async () => {
    const file = join(dir, "phone.png");
    await screenshot(url, file, 390, 844);
    const png = readFileSync(file);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([390, 844]);
    // A blank page compresses to a few hundred bytes; three cards of text do not.
    expect(statSync(file).size).toBeGreaterThan(20_000);
    copyFileSync(file, PHONE_SCREENSHOT);
  });
});
