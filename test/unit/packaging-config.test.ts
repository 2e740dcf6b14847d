// The shipped /etc/edge-agent/config.yaml: it loads as it stands, and every commented-out
// setting, uncommented, is valid and equals the default it claims to show.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig, type Config } from "../../agent/config";

const shipped = readFileSync(join(__dirname, "../../packaging/config.yaml"), "utf8");
const dir = mkdtempSync(join(tmpdir(), "edge-agent-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Settings are "#key: value" with the key's YAML indent after the "#"; prose is "# text". */
function uncomment(text: string): string {
  return text
    .split("\n")
    .map((line) => (/^#( {2})*[A-Za-z]/.test(line) ? line.slice(1) : line))
    .join("\n");
}

function load(text: string, name: string): Config {
  const path = join(dir, name);
  writeFileSync(path, text);
  return loadConfig(path);
}

const withoutSource = (config: Config) => ({ ...config, source: undefined });

describe("packaging/config.yaml", () => {
  it("loads as shipped and changes no default", () => {
    const config = load(shipped, "shipped.yaml");
    expect(config.source).toBe(join(dir, "shipped.yaml"));
    expect(withoutSource(config)).toEqual(withoutSource(load("", "empty.yaml")));
  });

  it("shows every default: uncommenting all settings loads and changes nothing", () => {
    const uncommented = uncomment(shipped);
    const settings = uncommented.split("\n").filter((l) => /^\s*[A-Za-z][A-Za-z0-9]*:/.test(l)).length;
    // Guards the uncomment rule itself: it must have found the settings of every section.
    expect(settings).toBeGreaterThan(40);
    expect(withoutSource(load(uncommented, "uncommented.yaml"))).toEqual(withoutSource(load("", "empty.yaml")));
  });

  it("documents every top-level section the loader knows", () => {
    const sections = Object.keys(load("", "empty.yaml")).filter((k) => k !== "source");
    const documented = uncomment(shipped).split("\n").filter((l) => /^[A-Za-z][A-Za-z0-9]*:/.test(l)).map((l) => l.split(":")[0]);
    expect(documented.sort()).toEqual(sections.sort());
  });
});
