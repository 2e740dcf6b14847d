// Checks of the notifications keys that only matter to a sender (the config loader checks the
// shape; this checks what the notifier and `trap --test` need), as ConfigErrors naming the key.
import { ConfigError, type Config } from "../config";
import { parseTarget } from "./target";

export function validateNotifications(config: Config): void {
  const n = config.notifications;
  try {
    parseTarget(n.target);
  } catch (error) {
    throw new ConfigError(config.source, "notifications.target", `${(error as Error).message} (the port must be 1 to 65535)`);
  }
  if (n.version === "2c" && !n.community)
    throw new ConfigError(config.source, "notifications.community", "notifications.version is 2c, so a community is required");
  if (n.version === "3" && !n.user)
    throw new ConfigError(config.source, "notifications.user", "notifications.version is 3, so a v3 user {name, authProtocol, authKey, privProtocol, privKey} is required");
}
