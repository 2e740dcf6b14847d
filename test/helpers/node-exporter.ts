// Debian's real prometheus-node-exporter on a free port, with only the collectors a test needs.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeTcpPort, waitFor } from "./ports";
import { startDaemon, type Daemon } from "./process";

export interface NodeExporter extends Daemon {
  port: number;
  url: string;
}

/** The one user a `basicAuth` node-exporter admits (test credentials, nothing else uses them). */
export const TEST_BASIC_AUTH = { user: "prom", password: "test-only-password" };
// bcrypt (cost 4) of TEST_BASIC_AUTH.password, made with python3's crypt.METHOD_BLOWFISH.
const TEST_BASIC_AUTH_HASH = "$2b$04$vlxJoRjoW.ssqai/s/LPVO2AEPx2dcujozrDpqiwxDNKtKmvOCmRm";

/**
 * `listen` may name several addresses (node-exporter repeats the flag); the URL uses the first.
 * `basicAuth`: a --web.config.file whose basic_auth_users admits TEST_BASIC_AUTH alone.
 */
export async function startNodeExporter(options: { textfileDir?: string; listen?: string | string[]; port?: number; netns?: string; basicAuth?: boolean } = {}): Promise<NodeExporter> {
  const port = options.port ?? (await freeTcpPort());
  const listens = options.listen === undefined ? [`127.0.0.1:${port}`] : [options.listen].flat();
  const listen = listens[0];
  const args = [
    ...listens.map((l) => `--web.listen-address=${l}`),
    "--collector.disable-defaults",
    "--collector.textfile",
    `--collector.textfile.directory=${options.textfileDir ?? "/nonexistent-edge-agent-test"}`,
  ];
  const webDir = options.basicAuth ? mkdtempSync(join(tmpdir(), "ea-ne-web-")) : null;
  if (webDir) {
    writeFileSync(join(webDir, "web.yml"), `basic_auth_users:\n  ${TEST_BASIC_AUTH.user}: ${TEST_BASIC_AUTH_HASH}\n`);
    args.push(`--web.config.file=${join(webDir, "web.yml")}`);
  }
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
  const stop = async () => {
    await daemon.stop();
    if (webDir) rmSync(webDir, { recursive: true, force: true });
  };
  return { ...daemon, stop, port, url };
}
