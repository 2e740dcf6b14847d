// Where this host documents the config's keys, for the config check's fixes: the man page once
// the package has installed it; before that (a checkout run with npx) the source's own copy.
import { existsSync } from "node:fs";

const MAN_PAGES = ["/usr/share/man/man5/edge-agent.yaml.5.gz", "/usr/share/man/man5/edge-agent.yaml.5", "/usr/local/share/man/man5/edge-agent.yaml.5"];

export const INSTALLED_REFERENCE = "man 5 edge-agent.yaml";
export const SOURCE_REFERENCE = "man -l packaging/man/edge-agent.yaml.5 in edge-agent's source, or its README's Config reference";

export function configReference(pages: readonly string[] = MAN_PAGES): string {
  return pages.some((page) => existsSync(page)) ? INSTALLED_REFERENCE : SOURCE_REFERENCE;
}
