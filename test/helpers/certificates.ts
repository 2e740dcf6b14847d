// A throw-away CA and a server certificate it signed, made with openssl, for a node-exporter
// serving https (its --web.config.file tls_server_config).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificates {
  /** PEM of the CA that signed `cert`. */
  caFile: string;
  /** The server's certificate (leaf only, as node-exporter sends it) and its key. */
  certFile: string;
  keyFile: string;
  /** A second CA that signed nothing here: trusting it alone must not be enough. */
  otherCaFile: string;
  remove: () => void;
}

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

function makeCa(dir: string, name: string): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", `/CN=edge-agent test ${name}`]);
  return { key, cert };
}

/** `names`: the subjectAltNames the server certificate carries, like DNS:localhost or IP:127.0.0.1. */
export function makeTestCertificates(names: string[]): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "ea-certs-"));
  const ca = makeCa(dir, "ca");
  const other = makeCa(dir, "other-ca");
  const keyFile = join(dir, "server.key");
  const csr = join(dir, "server.csr");
  const certFile = join(dir, "server.pem");
  const extensions = join(dir, "server.ext");
  writeFileSync(extensions, `subjectAltName=${names.join(",")}\nextendedKeyUsage=serverAuth\n`);
  openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyFile, "-out", csr, "-subj", "/CN=node-exporter"]);
  openssl(["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-out", certFile, "-days", "2", "-extfile", extensions]);
  return { caFile: ca.cert, certFile, keyFile, otherCaFile: other.cert, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
