// One TCP connect, closed at once: "does something listen there?" without speaking to it.
import { connect } from "node:net";
import { errorText } from "../../probes/deadline";

export interface ConnectResult {
  connected: boolean;
  ms: number;
  error?: string;
  code?: string;
}

export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<ConnectResult> {
  const start = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: Omit<ConnectResult, "ms">) => {
      socket.destroy();
      resolve({ ...result, ms: Math.round(performance.now() - start) });
    };
    socket.setTimeout(timeoutMs, () => done({ connected: false, error: `no answer within ${timeoutMs} ms`, code: "ETIMEDOUT" }));
    socket.once("connect", () => done({ connected: true }));
    socket.once("error", (error) => done({ connected: false, error: errorText(error), code: (error as NodeJS.ErrnoException).code }));
  });
}
