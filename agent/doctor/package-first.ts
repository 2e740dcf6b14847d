// Fixes that need what the edge-agent package puts on a host (its user, its systemd units) fail
// until it is installed ("invalid user", "Unit edge-agent.service not found"): while it is not,
// they say to install it first. Pure.

/** `present`: whether the thing the command needs exists; null when that could not be told. */
export function afterPackage(present: boolean | null | undefined, what: string, command: string): string {
  return present === false ? `install the edge-agent package first (it ${what}), then: ${command}` : command;
}
