// Sends the AlertTracker's alerts to Alertmanager (POST /api/v2/alerts): right after a change,
// and every resend period while any alert is tracked. A failed send is logged and counted; the
// next period sends the whole set again, so nothing is lost for good.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Logger } from "../log";
import type { PostableAlert } from "./alerts";

export function postAlerts(baseUrl: string, alerts: PostableAlert[], timeoutMs = 5000): Promise<void> {
  const url = new URL(`${baseUrl.replace(/\/+$/, "")}/api/v2/alerts`);
  const body = JSON.stringify(alerts);
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) }, timeout: timeoutMs }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text.length < 1000 ? (text += chunk) : undefined));
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`Alertmanager answered ${status} to POST ${url.pathname}: ${text.trim().slice(0, 200)}`));
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`Alertmanager at ${url.origin} did not answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

export class AlertmanagerSender {
  private sending = false;
  private again = false;
  sent = 0;
  failures = 0;

  constructor(
    public url: string,
    private readonly log: Logger,
  ) {}

  /** Sends now; a call while a send is in flight sends once more after it. */
  send(payload: () => PostableAlert[]): void {
    if (!this.url) return;
    if (this.sending) {
      this.again = true;
      return;
    }
    const alerts = payload();
    if (alerts.length === 0) return;
    this.sending = true;
    postAlerts(this.url, alerts).then(
      () => {
        this.sent++;
      },
      (error: Error) => {
        this.failures++;
        this.log.warn({ alertmanager: this.url, alerts: alerts.length, err: error.message }, "cannot send alerts to Alertmanager; will retry");
      },
    ).finally(() => {
      this.sending = false;
      if (this.again) {
        this.again = false;
        this.send(payload);
      }
    });
  }
}
