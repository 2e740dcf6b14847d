// The one check of the notifications keys the sender needs beyond the config loader's: that the
// target splits into host and port here too (a Config can also be built in code), as a
// ConfigError naming the key.
import { ConfigError, type Config } from "../config";
import { parseTarget } from "./target";

export function validateNotifications(config: Config): void {
  try {
    parseTarget(config.notifications.target);
  } catch (error) {
    throw new ConfigError(config.source, "notifications.target", `${(error as Error).message} (the port must be 1 to 65535)`);
  }
}
