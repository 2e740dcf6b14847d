// Debian's real Prometheus on a free loopback port with the prometheus.yml lines a test gives,
// its own data directory, and an instant-query helper.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeTcpPort, waitFor } from "./ports";
import { startDaemon, type Daemon } from "./process";

export interface InstantSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface Prometheus extends Daemon {
  url: string;
  /** An instant query's result; throws on a query Prometheus refuses. */
  query: (expr: string) => Promise<InstantSample[]>;
}

export async function startPrometheus(config: string[]): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), "ea-prometheus-"));
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(join(dir, "prometheus.yml"), `${config.join("\n")}\n`);
  const daemon = startDaemon("prometheus", [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"]);
  await waitFor("prometheus ready", async () => (await fetch(`${url}/-/ready`).catch(() => null))?.ok, 30_000, 200).catch(async (e) => {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\n${daemon.output()}`);
  });
  const query = async (expr: string): Promise<InstantSample[]> => {
    const res = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { status: string; error?: string; data: { result: InstantSample[] } };
    if (res.status !== "success") throw new Error(`${expr}: ${res.error}`);
    return res.data.result;
  };
  return {
    ...daemon,
    url,
    query,
    stop: async () => {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
