import { describe, expect, it } from "vitest";
import { confirmDown, type AskService } from "../../agent/daemon/confirm-down";
import { sampleNodeState } from "../helpers/sample-node-state";

/** Records what was asked; every service answers up. */
function recorder(): { asked: string[]; ask: AskService } {
  const asked: string[] = [];
  const up = sampleNodeState().services;
  const ask = (async (service: "nodeExporter" | "snmpd", ips: string[]) => {
    asked.push(`${service} ${ips.join(",")}`);
    return up[service];
  }) as AskService;
  return { asked, ask };
}

describe("the daemon's second look at a service that went down", () => {
  it("asks again only a service that was up and is down now, on the Tailscale IPs, and keeps that answer", async () => {
    const { asked, ask } = recorder();
    const next = await confirmDown(sampleNodeState(), sampleNodeState({ snmpdUp: false }), ask);
    expect(asked).toEqual(["snmpd 100.64.0.10,fd7a:115c:a1e0::10"]);
    expect(next.services.snmpd.up).toBe(true);
    expect(next.services.nodeExporter.up).toBe(true);
  });

  it("asks nothing on the first snapshot, for a service that stays down, or when all answer", async () => {
    const { asked, ask } = recorder();
    const down = sampleNodeState({ nodeExporterUp: false });
    expect(await confirmDown(null, down, ask)).toBe(down);
    expect(await confirmDown(down, down, ask)).toBe(down);
    expect((await confirmDown(down, sampleNodeState(), ask)).services.nodeExporter.up).toBe(true);
    expect(asked).toEqual([]);
  });
});
