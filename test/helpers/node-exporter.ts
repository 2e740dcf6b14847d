// Debian's real prometheus-node-exporter on a free port, with only the collectors a test needs.
import { freeTcpPort, waitFor } from "./ports";
import { startDaemon, type Daemon } from "./process";

export interface NodeExporter extends Daemon {
  port: number;
  url: string;
}

/** `listen` may name several addresses (node-exporter repeats the flag); the URL uses the first. */
export async function startNodeExporter(options: { textfileDir?: string; listen?: string | string[]; port?: number; netns?: string; webConfigFile?: string } = {}): Promise<NodeExporter> {
  const port = options.port ?? (await freeTcpPort());
  const listens = options.listen === undefined ? [`127.0.0.1:${port}`] : [options.listen].flat();
  const listen = listens[0];
  const args = [
    ...listens.map((l) => `--web.listen-address=${l}`),
    "--collector.disable-defaults",
    "--collector.textfile",
    `--collector.textfile.directory=${options.textfileDir ?? "/nonexistent-edge-agent-test"}`,
    ...(options.webConfigFile ? [`--web.config.file=${options.webConfigFile}`] : []),
  ];
  const daemon = options.netns
    ? startDaemon("ip", ["netns", "exec", options.netns, "prometheus-node-exporter", ...args])
    : startDaemon("prometheus-node-exporter", args);
  const host = listen.replace(/:\d+$/, "");
  const url = `http://${host}:${port}/metrics`;
  if (!options.netns) {
    // With basic auth in its web config, a 401 is node-exporter answering.
    await waitFor(`node-exporter on ${listen}`, async () => [200, 401].includes((await fetch(url)).status), 10_000, 100).catch((error) => {
      throw new Error(`${(error as Error).message}\nnode-exporter output:\n${daemon.output()}`);
    });
  }
  return { ...daemon, port, url };
}
