// `edge-agent run`: the daemon. Loads the config, starts the notifier and the daemon, reloads on
// SIGHUP (a bad new config is logged and the running one kept), and on SIGTERM/SIGINT flushes
// the outbox and exits 0 within 5 s.
import { loadConfig, redactConfig, type Config } from "../config";
import { Daemon, type EventFilter } from "../daemon/daemon";
import { createLogger } from "../log";
import { FlapDamper } from "../snmp/flap-damper";
import { Notifier } from "../snmp/notifier";
import { AGENT_VERSION } from "../version";

/** Whole shutdown budget; systemd's default TimeoutStopSec is far longer, this is our promise. */
const STOP_BUDGET_MS = 4500;

/**
 * Flap damping between diff() and the notifier. Summaries of held-down subjects that have gone
 * quiet (tick) go out with a cycle's own events, so they wait for the next cycle (README: Daemon).
 */
function flapFilter(): EventFilter {
  const damper = new FlapDamper();
  return (events) => [...damper.tick(), ...events.flatMap((event) => damper.admit(event))];
}

export async function runCommand(values: { config?: unknown }): Promise<number> {
  const configPath = values.config as string | undefined;
  // A bad config at start is a usage error (exit 2, from the CLI); later ones are only logged.
  const config = loadConfig(configPath);
  const logger = createLogger(config.log.level);
  logger.info({ version: AGENT_VERSION, config: redactConfig(config) }, `edge-agent ${AGENT_VERSION} starting${config.source ? ` with ${config.source}` : " with the default config"}`);

  const daemon = new Daemon(config, logger, { createSink: (c) => new Notifier(c, logger), filter: flapFilter() });

  let reloading = Promise.resolve();
  const onHup = () => {
    reloading = reloading.then(async () => {
      let next: Config;
      try {
        next = loadConfig(configPath);
      } catch (error) {
        logger.error({ error: (error as Error).message }, `config reload failed, keeping the running config: ${(error as Error).message}`);
        return;
      }
      try {
        await daemon.reload(next);
      } catch (error) {
        logger.error({ error: (error as Error).message }, `config reload failed, keeping the running config: ${(error as Error).message}`);
        return;
      }
      logger.level = next.log.level;
      logger.info({ config: redactConfig(next) }, `config reloaded from ${next.source ?? "defaults"}`);
    });
  };
  process.on("SIGHUP", onHup);

  const stopped = new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });

  // A signal during the first cycle must not wait for it: stop() bounds the running cycle.
  await Promise.race([daemon.start(), stopped]);
  const signal = await stopped;
  process.removeListener("SIGHUP", onHup);
  logger.info({ signal }, `${signal}: flushing notifications and stopping`);
  // Whatever hangs, the process ends in time: the outbox is on disk for the next start.
  const hardStop = setTimeout(() => {
    logger.warn("shutdown took too long; exiting with notifications left in the outbox");
    process.exit(0);
  }, STOP_BUDGET_MS + 300);
  hardStop.unref();
  await daemon.stop(STOP_BUDGET_MS);
  logger.info("stopped");
  // Sockets of libraries (net-snmp) may linger; nothing is left to do.
  setTimeout(() => process.exit(0), 200).unref();
  return 0;
}
