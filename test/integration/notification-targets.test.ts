// notifications.targets with `edge-agent run` started as the packaged unit starts it, and two
// real snmptrapd: while one target is down the other gets every notification as it happens; a
// kill -9 of the daemon in between loses nothing for either; once the down one is back it gets
// every notification, in sequence order, from 1 on. One sequence for the node, shared by both.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { TEXTFILE_NAME } from "../../agent/daemon/textfile";
import { freeUdpPort, waitFor } from "../helpers/ports";
import { describeWith } from "../helpers/prereqs";
import type { Daemon } from "../helpers/process";
import { startSnmptrapd, type Snmptrapd } from "../helpers/snmptrapd";
import { startUnit } from "../helpers/unit-exec";
import { sample } from "./receiver-support";

const running: Daemon[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** Sequence numbers in the order they arrived (a resend after kill -9 may repeat one). */
function sequences(trapd: Snmptrapd): number[] {
  return trapd.received().map((n) => Number(n.values.edgeAgentNotificationSequence?.replace("Gauge32: ", "")));
}

const unique = (list: number[]) => [...new Set(list)];
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** One series' value in the daemon's textfile; undefined before it is written or without it. */
function textfileSample(dir: string, series: string): number | undefined {
  let text = "";
  try {
    text = readFileSync(join(dir, TEXTFILE_NAME), "utf8");
  } catch {
    return undefined;
  }
  return sample(text, series) ?? undefined;
}

function killHard(daemon: Daemon): Promise<void> {
  return new Promise((done) => {
    daemon.child.once("exit", () => done());
    daemon.child.kill("SIGKILL");
  });
}

describeWith({ binaries: ["snmptrapd"] }, "edge-agent run with two notifications targets", () => {
  it("a target that is down delays nobody, survives kill -9, and gets everything in order when it is back", async () => {
    const work = mkdtempSync(join(tmpdir(), "ea-targets-"));
    dirs.push(work);
    const up = await startSnmptrapd();
    running.push(up);
    // The second receiver's port, with nobody listening yet: informs to it time out.
    const downPort = await freeUdpPort();
    const targetUp = `127.0.0.1:${up.port}`;
    const targetDown = `127.0.0.1:${downPort}`;
    const outbox = join(work, "outbox");
    const textDir = join(work, "textfile");
    const configFile = join(work, "config.yaml");
    mkdirSync(textDir);
    // JSON is YAML. Heartbeats every 300 ms are the notifications; the probes find nothing.
    const config = {
      tailscale: { socket: join(work, "no-tailscaled.sock") },
      probes: { timeout: "500ms", nodeExporter: { url: "http://127.0.0.1:9/metrics" }, snmpd: { port: 9 } },
      notifications: { targets: [targetUp, targetDown], community: "edgetest", inform: true, timeout: "300ms", retries: 0, outbox },
      textfile: { directory: textDir },
      agentx: { enabled: false },
      run: { interval: "1s", heartbeat: "300ms" },
    };
    writeFileSync(configFile, JSON.stringify(config));
    const start = () => {
      const agent = startUnit(["run", "--config", configFile]);
      running.push(agent);
      return agent;
    };

    // One target down from the start: the other still gets each notification as it is made.
    // Held behind the down one, none would arrive until it is back; each lane retries on its own.
    const first = start();
    await waitFor("six notifications at the target that is up", () => unique(sequences(up)).length >= 6, 20_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${first.output().slice(-3000)}`);
    });
    expect(unique(sequences(up))).toEqual(oneTo(unique(sequences(up)).length));
    // The textfile counts per target: one receives, the other waits.
    await waitFor("the textfile to show the down target's queue", () => (textfileSample(textDir, `edge_agent_notifications_queued{target="${targetDown}"}`) ?? 0) >= 3, 10_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${first.output().slice(-3000)}`);
    });
    expect(textfileSample(textDir, `edge_agent_notifications_sent_total{target="${targetUp}"}`)).toBeGreaterThanOrEqual(3);
    expect(textfileSample(textDir, `edge_agent_notifications_sent_total{target="${targetDown}"}`)).toBe(0);
    expect(textfileSample(textDir, `edge_agent_notifications_failed_total{target="${targetDown}"}`)).toBeGreaterThanOrEqual(1);

    // kill -9: every notification made so far is still on disk for the target that has none.
    await killHard(first);
    const beforeKill = Math.max(...sequences(up));
    const onDisk = readdirSync(outbox)
      .filter((f) => /^n-\d{10}\.json$/.test(f))
      .map((f) => Number(f.slice(2, 12)))
      .sort((a, b) => a - b);
    expect(onDisk.slice(0, beforeKill)).toEqual(oneTo(beforeKill));

    // Restarted, the second target still down: the sequence continues and the first keeps up.
    const second = start();
    await waitFor("three more at the target that is up", () => Math.max(...sequences(up)) >= beforeKill + 3, 10_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${second.output().slice(-3000)}`);
    });

    // The second receiver comes back on its port: it gets everything from 1, in order.
    const late = await startSnmptrapd({ port: downPort });
    running.push(late);
    const madeBeforeReturn = Math.max(...sequences(up));
    await waitFor("the returning target to catch up", () => unique(sequences(late)).length >= madeBeforeReturn + 2, 30_000).catch((e) => {
      throw new Error(`${(e as Error).message}: has ${JSON.stringify(sequences(late))}\n${second.output().slice(-3000)}`);
    });
    await second.stop();

    for (const trapd of [up, late]) {
      const got = sequences(trapd);
      // No gap, and never an older one after a newer one (a resend repeats the last at most).
      expect(unique(got)).toEqual(oneTo(Math.max(...got)));
      expect(got).toEqual([...got].sort((a, b) => a - b));
    }
    // The same notifications under the same numbers at both: one sequence for the node.
    const bySequence = (trapd: Snmptrapd) => new Map(trapd.received().map((n) => [n.values.edgeAgentNotificationSequence, `${n.name} ${n.values.edgeAgentEventTime}`]));
    const atUp = bySequence(up);
    for (const [sequence, what] of bySequence(late)) if (atUp.has(sequence)) expect(what).toBe(atUp.get(sequence));
  }, 120_000);
});
