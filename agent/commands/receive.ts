// `edge-agent receive`: run the scraper's trap receiver until SIGTERM/SIGINT (save the fleet, exit
// 0). SIGHUP re-reads the config and applies it keeping the fleet; a bad new config is logged
// and the running one stays.
import { loadConfig, redactConfig } from "../config";
import { createLogger } from "../log";
import { TrapReceiver } from "../receiver/receiver";

export async function receiveCommand(values: { config?: unknown }): Promise<number> {
  const path = values.config as string | undefined;
  const config = loadConfig(path);
  const log = createLogger(config.log.level, "edge-agent-receive");
  log.debug({ config: redactConfig(config) }, "config loaded");
  let receiver: TrapReceiver;
  try {
    receiver = await TrapReceiver.start({ config, log });
  } catch (error) {
    log.fatal({ err: (error as Error).message }, "receiver cannot start");
    process.stderr.write(`edge-agent receive: ${(error as Error).message}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let reloading = Promise.resolve();
    const onHup = () => {
      reloading = reloading.then(async () => {
        let next;
        try {
          next = loadConfig(path);
        } catch (error) {
          receiver.metrics.reloads.inc({ result: "failure" });
          log.error({ err: (error as Error).message }, "config reload failed; keeping the running config");
          return;
        }
        try {
          await receiver.reload(next);
          receiver.metrics.reloads.inc({ result: "success" });
          log.info({ source: next.source }, "config reloaded");
        } catch (error) {
          receiver.metrics.reloads.inc({ result: "failure" });
          log.error({ err: (error as Error).message }, "config reload failed; keeping the running config");
        }
      });
    };
    const onStop = (signal: NodeJS.Signals) => {
      process.off("SIGHUP", onHup);
      process.off("SIGTERM", onStop);
      process.off("SIGINT", onStop);
      log.info({ signal, nodes: receiver.fleet.nodes.size }, "stopping; saving fleet state");
      reloading.then(() => receiver.stop()).then(
        () => resolve(0),
        (error: Error) => {
          log.error({ err: error.message }, "error while stopping");
          resolve(1);
        },
      );
    };
    process.on("SIGHUP", onHup);
    process.on("SIGTERM", onStop);
    process.on("SIGINT", onStop);
  });
}
