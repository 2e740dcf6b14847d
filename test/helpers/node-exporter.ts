// Debian's real prometheus-node-exporter on a free port, with only the collectors a test needs.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { urlEndpoint } from "../../agent/probes/node-exporter";
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
 * `tls`: a --web.config.file serving https with that certificate; the URL is then https://.
 */
export async function startNodeExporter(options: { textfileDir?: string; listen?: string | string[]; port?: number; netns?: string; basicAuth?: boolean; tls?: { certFile: string; keyFile: string } } = {}): Promise<NodeExporter> {
  const port = options.port ?? (await freeTcpPort());
  const listens = options.listen === undefined ? [`127.0.0.1:${port}`] : [options.listen].flat();
  const listen = listens[0];
  const args = [
    ...listens.map((l) => `--web.listen-address=${l}`),
    "--collector.disable-defaults",
    "--collector.textfile",
    `--collector.textfile.directory=${options.textfileDir ?? "/nonexistent-edge-agent-test"}`,
  ];
  const webDir = options.basicAuth || options.tls ? mkdtempSync(join(tmpdir(), "ea-ne-web-")) : null;
  if (webDir) {
    const web = [
      ...(options.basicAuth ? [`basic_auth_users:\n  ${TEST_BASIC_AUTH.user}: ${TEST_BASIC_AUTH_HASH}`] : []),
      ...(options.tls ? [`tls_server_config:\n  cert_file: ${options.tls.certFile}\n  key_file: ${options.tls.keyFile}`] : []),
    ];
    writeFileSync(join(webDir, "web.yml"), `${web.join("\n")}\n`);
    args.push(`--web.config.file=${join(webDir, "web.yml")}`);
  }
  const daemon = options.netns
    ? startDaemon("ip", ["netns", "exec", options.netns, "prometheus-node-exporter", ...args])
    : startDaemon("prometheus-node-exporter", args);
  const host = listen.replace(/:\d+$/, "");
  const url = `${options.tls ? "https" : "http"}://${host}:${port}/metrics`;
  if (!options.netns) {
    // With basic auth in its web config, a 401 is node-exporter answering; with TLS, its
    // listener is up once a TCP connection is taken (fetch would refuse the test CA).
    const answers = options.tls ? () => tcpAccepts(urlEndpoint(url)) : async () => [200, 401].includes((await fetch(url)).status);
    await waitFor(`node-exporter on ${listen}`, answers, 10_000, 100).catch((error) => {
      throw new Error(`${(error as Error).message}\nnode-exporter output:\n${daemon.output()}`);
    });
  }
  const stop = async () => {
    await daemon.stop();
    if (webDir) rmSync(webDir, { recursive: true, force: true });
  };
  return { ...daemon, stop, port, url };
}

function tcpAccepts(endpoint: { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(endpoint);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
