#!/usr/bin/env bash
# `npm run package`: builds dist/edge-agent_<version>_all.deb and
# dist/edge-agent-<version>.noarch.rpm from this checkout, <version> from package.json.
# Both packages are assembled in a scratch directory; the checkout is left as it was apart
# from dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

version=$(node -p 'require("./package.json").version')
changelog_version=$(dpkg-parsechangelog -l packaging/deb/changelog -S Version)
if [ "$changelog_version" != "$version" ]; then
  echo "package: package.json says version $version, packaging/deb/changelog says $changelog_version." >&2
  echo "package: add a changelog entry: dch -c packaging/deb/changelog -v $version" >&2
  exit 1
fi

for tool in dpkg-buildpackage dh rpmbuild; do
  command -v "$tool" >/dev/null || { echo "package: $tool is missing: run scripts/install-test-deps.sh" >&2; exit 1; }
done

scripts/build.sh

scratch=$(mktemp -d /tmp/edge-agent-package.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
src="$scratch/edge-agent-$version"
mkdir -p "$src"
cp dist/bundle/edge-agent LICENSE "$src/"
cp -r packaging "$src/packaging"
# The MIB is `edge-agent mib`'s output, kept in the tree (test/unit/mib.test.ts keeps it equal).
[ -f packaging/mibs/EDGE-AGENT-MIB.txt ] || { echo "package: packaging/mibs/EDGE-AGENT-MIB.txt is missing: npx edge-agent mib > packaging/mibs/EDGE-AGENT-MIB.txt" >&2; exit 1; }
mib=1

# ---- .deb --------------------------------------------------------------------------------
cp -r packaging/deb "$src/debian"
cp packaging/systemd/edge-agent.service "$src/debian/edge-agent.service"
cp packaging/systemd/edge-agent-receiver.service "$src/debian/edge-agent.edge-agent-receiver.service"
cp packaging/systemd/edge-agent.sysusers "$src/debian/edge-agent.sysusers"
cp packaging/systemd/edge-agent.tmpfiles "$src/debian/edge-agent.tmpfiles"
(cd "$src" && dpkg-buildpackage -us -uc -b >"$scratch/dpkg-buildpackage.log" 2>&1) || {
  cat "$scratch/dpkg-buildpackage.log" >&2
  echo "package: dpkg-buildpackage failed (log above)" >&2
  exit 1
}
mkdir -p dist
cp "$scratch/edge-agent_${version}_all.deb" dist/

# ---- .rpm --------------------------------------------------------------------------------
# One changelog: the rpm's %changelog is rendered from the Debian one.
spec="$scratch/edge-agent.spec"
{
  cat packaging/rpm/edge-agent.spec
  echo "%changelog"
  dpkg-parsechangelog -l packaging/deb/changelog --all --format rfc822 | node -e '
    const text = require("node:fs").readFileSync(0, "utf8");
    for (const entry of text.split(/\n\n(?=Source:)/)) {
      const field = (name) => (new RegExp(`^${name}: (.*)$`, "m").exec(entry) ?? [])[1];
      const date = new Date(field("Date"));
      const day = date.toUTCString().slice(0, 3);
      const [, dd, mon, yyyy] = date.toUTCString().split(" ");
      console.log(`* ${day} ${mon} ${dd} ${yyyy} ${field("Maintainer")} - ${field("Version")}-1`);
      const changes = entry.split(/^Changes:.*$/m)[1].split("\n").slice(2)
        .map((l) => l.replace(/^ /, "")).filter((l) => l.trim() !== "" && l.trim() !== ".");
      for (const line of changes) console.log(line.replace(/^\s+\* /, "- ").replace(/^\s+/, "  "));
      console.log("");
    }'
} >"$spec"
rpmbuild -bb "$spec" \
  --load packaging/rpm/macros.systemd \
  --define "_topdir $scratch/rpm" \
  --define "_sourcedir $src" \
  --define "pkg_version $version" \
  --define "with_mib $mib" \
  --nodeps >"$scratch/rpmbuild.log" 2>&1 || {
  cat "$scratch/rpmbuild.log" >&2
  echo "package: rpmbuild failed (log above)" >&2
  exit 1
}
cp "$scratch/rpm/RPMS/noarch/edge-agent-${version}-1.noarch.rpm" "dist/edge-agent-${version}.noarch.rpm"

[ "$mib" = 1 ] && mibnote="with the MIB" || mibnote="without the MIB (packaging/mibs/EDGE-AGENT-MIB.txt does not exist yet)"
echo "package: dist/edge-agent_${version}_all.deb and dist/edge-agent-${version}.noarch.rpm, $mibnote"
