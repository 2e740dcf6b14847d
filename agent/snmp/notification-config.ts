// The one check of the notifications keys the sender needs beyond the config loader's: that each
// target splits into host and port here too (a Config can also be built in code), as a
// ConfigError naming the key.
import { ConfigError, type Config } from "../config";
import { parseTarget } from "./target";

export function validateNotifications(config: Config): void {
  const { targets } = config.notifications;
  if (targets.length === 0) throw new ConfigError(config.source, "notifications.targets", "no target: every notification needs somewhere to go");
  targets.forEach((target, i) => {
    try {
      parseTarget(target);
    } catch (error) {
      throw new ConfigError(config.source, `notifications.targets[${i}]`, `${(error as Error).message} (the port must be 1 to 65535)`);
    }
  });
}
