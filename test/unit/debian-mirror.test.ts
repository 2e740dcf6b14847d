// scripts/debian-mirror.sh, which scripts/test-packages.sh asks for the mirror to debootstrap
// from: apt's own reading of sources in each form it accepts, and a clear failure (never a
// built-in URL) when none is a Debian archive. Each case is a sources tree of its own, handed to
// apt-get with -o, so the machine's apt configuration is not involved.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/repo";

const root = mkdtempSync(join(tmpdir(), "ea-mirror-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let cases = 0;

interface Sources {
  list?: string;
  parts?: Record<string, string>;
  /** Downloaded Release files (and an index each, as apt update leaves them), by list-file prefix. */
  releases?: Record<string, string>;
}

function mirror(sources: Sources, suite?: string): Promise<{ code: number; out: string; err: string }> {
  const dir = join(root, String(cases++));
  mkdirSync(join(dir, "parts"), { recursive: true });
  mkdirSync(join(dir, "lists"));
  writeFileSync(join(dir, "sources.list"), sources.list ?? "");
  for (const [name, text] of Object.entries(sources.parts ?? {})) writeFileSync(join(dir, "parts", name), text);
  for (const [prefix, text] of Object.entries(sources.releases ?? {})) {
    writeFileSync(join(dir, "lists", `${prefix}_Release`), text);
    writeFileSync(join(dir, "lists", `${prefix}_main_binary-amd64_Packages`), "");
  }
  const args = [...(suite ? [suite] : []), "-o", `Dir::Etc::sourcelist=${dir}/sources.list`, "-o", `Dir::Etc::sourceparts=${dir}/parts`, "-o", `Dir::State::lists=${dir}/lists`, "-o", "APT::Architecture=amd64"];
  return new Promise((resolve) => {
    execFile("bash", [join(REPO_ROOT, "scripts/debian-mirror.sh"), ...args], (error, out, err) => resolve({ code: error ? Number((error as { code?: number }).code) : 0, out, err }));
  });
}

describe("scripts/debian-mirror.sh", () => {
  it("reads the one-line form in sources.list, options and all, and skips deb-src", async () => {
    const r = await mirror({ list: "# the mirror\ndeb-src http://src.example.org/debian bookworm main\ndeb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example.org/debian/ bookworm main contrib\n" });
    expect(r).toEqual({ code: 0, out: "http://mirror.example.org/debian\n", err: "" });
  });

  it("reads deb822 .sources with comments between fields, several URIs and suites, and a .list in sources.list.d", async () => {
    const deb822 = "Types: deb deb-src\n# a snapshot would go here\nURIs: https://a.example.org/debian https://b.example.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: https://a.example.org/debian-security\nSuites: bookworm-security\nComponents: main\n";
    expect((await mirror({ parts: { "debian.sources": deb822 } })).out).toBe("https://a.example.org/debian\n");
    expect((await mirror({ parts: { "mirror.list": "deb http://list.example.org/debian bookworm main\n" } })).out).toBe("http://list.example.org/debian\n");
  });

  it("ignores a disabled source (Enabled: no) and files apt does not read", async () => {
    const r = await mirror({ parts: { "off.sources": "Enabled: no\nTypes: deb\nURIs: http://off.example.org/debian\nSuites: bookworm\nComponents: main\n", "x.list.disabled": "deb http://x.example.org/debian bookworm main\n" } });
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
  });

  it("without a source of the suite, takes Debian's archive by its Release file (stable = bookworm, or any suite of the archive), never Debian-Security", async () => {
    const release = (codename: string, label = "Debian") => `Origin: Debian\nLabel: ${label}\nSuite: stable\nCodename: ${codename}\nComponents: main\nArchitectures: amd64\n`;
    const stable = await mirror({ list: "deb http://s.example.org/debian stable main\n", releases: { "s.example.org_debian_dists_stable": release("bookworm") } });
    expect(stable.out).toBe("http://s.example.org/debian\n");
    const trixie = await mirror({
      list: "deb http://sec.example.org/debian-security trixie-security main\ndeb http://t.example.org/debian trixie main\n",
      releases: { "sec.example.org_debian-security_dists_trixie-security": release("trixie-security", "Debian-Security"), "t.example.org_debian_dists_trixie": release("trixie") },
    });
    expect(trixie.out).toBe("http://t.example.org/debian\n");
    // Not downloaded yet (no apt-get update): the suite as written is all there is to go by.
    expect((await mirror({ list: "deb http://t.example.org/debian trixie main\n" })).code).toBe(1);
  });

  it("fails naming what apt lists, with no built-in URL, when no source is a Debian archive", async () => {
    const r = await mirror({ list: "deb http://archive.ubuntu.example/ubuntu jammy main\ndeb https://pkgs.example.com/apt stable main\n" });
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain("debian-mirror: no Debian archive for bookworm among this machine's apt sources");
    expect(r.err).toContain("deb http://archive.ubuntu.example/ubuntu/ jammy");
    expect(r.err).not.toContain("deb.debian.org");
    const none = await mirror({});
    expect(none).toMatchObject({ code: 1, out: "" });
    expect(none.err).toContain("no deb sources at all");
  });

  it("on this machine, names a deb source its apt really has, in whatever form /etc/apt holds it", async () => {
    const listed = await new Promise<string>((resolve) => execFile("apt-get", ["indextargets", "--no-release-info", "--format", "$(TARGET_OF) $(REPO_URI)"], (_e, out) => resolve(out)));
    const uris = new Set(listed.split("\n").filter((l) => l.startsWith("deb ")).map((l) => l.split(" ")[1].replace(/\/$/, "")));
    const r = await new Promise<{ code: number; out: string }>((resolve) => execFile("bash", [join(REPO_ROOT, "scripts/debian-mirror.sh")], (error, out) => resolve({ code: error ? 1 : 0, out })));
    if (r.code === 0) expect(uris).toContain(r.out.trim());
    else expect(r.out).toBe("");
  });

  it("takes the suite to look for as its argument", async () => {
    expect((await mirror({ list: "deb http://m.example.org/debian bookworm main\ndeb http://m2.example.org/debian trixie main\n" }, "trixie")).out).toBe("http://m2.example.org/debian\n");
  });
});
