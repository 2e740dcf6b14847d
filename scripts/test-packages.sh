#!/usr/bin/env bash
# Checks the packages `npm run package` built, as a user of each would meet them:
#   lint  lintian and rpmlint (no errors), systemd-analyze security exposure of both units
#   rpm   metadata, dependencies and scriptlets (rpm -qp); install, upgrade and erase in a
#         scratch root (rpm --root) to check the file layout and %config(noreplace)
#   deb   in a debootstrap'd Debian 12 root: apt-get install pulls Debian's nodejs 18; every
#         command runs; an upgrade keeps an edited config; remove and purge follow policy
#   unit  the same root with Debian's systemd booted as PID 1 in namespaces of its own: the
#         packaged edge-agent.service, its whole sandbox and W^X included, runs, watches the
#         addresses and the ruleset, and stops cleanly
# Usage: scripts/test-packages.sh [lint|rpm|deb|unit|all]   (as root for rpm, deb and unit)
# The Debian root is cached as a tarball in $EDGE_AGENT_TEST_CACHE (default
# /var/cache/edge-agent-test) together with the .debs apt downloaded; delete it to rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$PWD

cache=${EDGE_AGENT_TEST_CACHE:-/var/cache/edge-agent-test}
version=$(node -p 'require("./package.json").version')
deb="dist/edge-agent_${version}_all.deb"
rpm="dist/edge-agent-${version}.noarch.rpm"
mib=1

fail() { echo "test-packages: FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

scratch=$(mktemp -d /var/tmp/edge-agent-test-packages.XXXXXX)
mounted=()
booted=()
cgroups=()
cleanup() {
  # Killing a PID namespace's init ends every process in it, and its mounts with them.
  for pid in "${booted[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  # Then the cgroups its systemd made under the one it was started in, deepest first, once the
  # killed processes have left them.
  local c try
  for c in "${cgroups[@]}"; do
    for try in 1 2 3 4 5 6 7 8 9 10; do
      find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true
      [ -d "$c" ] || break
      sleep 0.2
    done
  done
  # Innermost first: a mount made on top of another is removed before it.
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT

need_packages() {
  if [ ! -f "$deb" ] || [ ! -f "$rpm" ]; then
    echo "test-packages: $deb or $rpm missing, building them"
    scripts/package.sh
  fi
}

# A copy of this checkout with the version bumped, packaged: the "newer build" to upgrade to.
# Kept in dist/upgrade-test/ and reused while it is newer than the packages under test.
bumped_version="${version}+upgradetest1"
bumped_deb="dist/upgrade-test/edge-agent_${bumped_version}_all.deb"
bumped_rpm="dist/upgrade-test/edge-agent-${bumped_version}.noarch.rpm"
build_bumped() {
  if [ "$bumped_deb" -nt "$deb" ] && [ "$bumped_rpm" -nt "$rpm" ]; then return; fi
  local copy="$scratch/checkout"
  mkdir -p "$copy"
  (git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -C "$copy" -xf -)
  ln -s "$checkout/node_modules" "$copy/node_modules"
  (
    cd "$copy"
    node -e 'const f="package.json",j=require("./"+f);j.version=process.argv[1];require("fs").writeFileSync(f,JSON.stringify(j,null,2)+"\n")' "$bumped_version"
    DEBFULLNAME="edge-agent tests" DEBEMAIL="tests@edge-agent.invalid" \
      dch -c packaging/deb/changelog -v "$bumped_version" --force-bad-version "Upgrade test build." >/dev/null 2>&1
    scripts/package.sh >/dev/null
  ) || fail "could not build the bumped version $bumped_version"
  mkdir -p dist/upgrade-test
  cp "$copy/dist/edge-agent_${bumped_version}_all.deb" "$copy/dist/edge-agent-${bumped_version}.noarch.rpm" dist/upgrade-test/
}

# ---- lint ------------------------------------------------------------------------------------
stage_lint() {
  need_packages
  local out
  out=$(TMPDIR="$scratch" lintian --pedantic --display-info "$deb" 2>&1 | grep -v '^running with root privileges' || true)
  echo "$out" | grep -E '^[EWIP]:' || true
  if echo "$out" | grep -q '^E:'; then fail "lintian reports errors (above)"; fi
  ok "lintian: no errors"

  out=$(rpmlint -c packaging/rpm/rpmlint.toml "$rpm" 2>&1 || true)
  echo "$out" | grep -E '^edge-agent|checked;' || true
  echo "$out" | grep -qE '(^| )0 errors' || fail "rpmlint reports errors (above)"
  ok "rpmlint: no errors"

  for unit in edge-agent edge-agent-receiver; do
    local score
    score=$(systemd-analyze security --offline=true --no-pager "packaging/systemd/$unit.service" 2>/dev/null \
      | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
    [ -n "$score" ] || fail "systemd-analyze security gave no score for $unit.service"
    echo "exposure $unit.service $score"
    # 2.0 is well inside "OK"; a score above it means a hardening line was lost.
    awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "$unit.service exposure $score is above 2.0"
  done
  ok "systemd-analyze security: both units at or below exposure 2.0"
}

# ---- rpm -------------------------------------------------------------------------------------
expected_rpm_files() {
  printf '%s\n' /etc/edge-agent /etc/edge-agent/config.yaml /etc/snmp /etc/snmp/snmpd.conf.d /etc/snmp/snmpd.conf.d/edge-agent.conf /usr/bin/edge-agent \
    /usr/lib/systemd/system/edge-agent-receiver.service /usr/lib/systemd/system/edge-agent.service \
    /usr/lib/sysusers.d/edge-agent.conf /usr/lib/tmpfiles.d/edge-agent.conf \
    /usr/share/edge-agent /usr/share/edge-agent/config.schema.json \
    /usr/share/licenses/edge-agent/LICENSE /usr/share/licenses/edge-agent/THIRD-PARTY \
    /usr/share/man/man5/edge-agent.yaml.5.gz /usr/share/man/man8/edge-agent.8.gz
  # The scraper's files (rules, dashboard, snmp_exporter module...): whatever packaging/ holds.
  (cd packaging && find prometheus snmp_exporter snmptrapd snmptt grafana mibs-base | sed 's|^mibs-base|mibs|; s|^|/usr/share/edge-agent/|')
  if [ "$mib" = 1 ]; then
    printf '%s\n' /usr/share/snmp /usr/share/snmp/mibs /usr/share/snmp/mibs/EDGE-AGENT-MIB.txt
  fi
}

# Debian's rpm warns on every transaction that alien is the way; the warning is not ours.
rpm_quiet() {
  local code=0
  rpm "$@" >"$scratch/rpm.out" 2>&1 || code=$?
  grep -vE '^$|should not be used directly|know what you are doing' "$scratch/rpm.out" || true
  return $code
}

stage_rpm() {
  need_packages
  [ "$(rpm -qp --qf '%{NAME} %{VERSION} %{ARCH}' "$rpm")" = "edge-agent $version noarch" ] \
    || fail "rpm name/version/arch: $(rpm -qp --qf '%{NAME} %{VERSION} %{ARCH}' "$rpm")"
  rpm -qp --requires "$rpm" | grep -qx 'nodejs >= 18' || fail "rpm does not require nodejs >= 18"
  rpm -qp --provides "$rpm" | grep -qx "edge-agent = ${version}-1" || fail "rpm does not provide edge-agent = ${version}-1"
  diff <(rpm -qp -l "$rpm" | sort) <(expected_rpm_files | sort) || fail "rpm file list differs from the expected layout (diff above)"
  [ "$(rpm -qp --configfiles "$rpm" | sort | tr '\n' ' ')" = "/etc/edge-agent/config.yaml /etc/snmp/snmpd.conf.d/edge-agent.conf " ] \
    || fail "the %config files are not config.yaml and the snmpd.conf.d drop-in: $(rpm -qp --configfiles "$rpm")"
  rpm -qp --qf '[%{FILENAMES} %{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEFLAGS:fflags}\n]' "$rpm" \
    | grep -qx '/etc/edge-agent/config.yaml -rw-r----- root:edge-agent cn' || fail "config.yaml is not 0640 root:edge-agent %config(noreplace)"
  local scripts
  scripts=$(rpm -qp --scripts "$rpm")
  echo "$scripts" | grep -q 'systemd-sysusers --replace=/usr/lib/sysusers.d/edge-agent.conf' || fail "%pre does not create the user"
  echo "$scripts" | grep -q 'u edge-agent - ' || fail "%pre does not carry the sysusers line"
  echo "$scripts" | grep -q 'systemctl --no-reload preset edge-agent.service edge-agent-receiver.service' || fail "%post does not apply presets"
  echo "$scripts" | grep -q 'systemctl --no-reload disable --now edge-agent.service edge-agent-receiver.service' || fail "%preun does not stop the units"
  echo "$scripts" | grep -q 'systemctl try-restart edge-agent.service edge-agent-receiver.service' || fail "%postun does not restart running units"
  rpm -qp --changelog "$rpm" | head -1 | grep -q -- "- ${version}-1\$" || fail "rpm %changelog does not start with ${version}-1"
  ok "rpm -qp: name, version, requires, provides, files, config, scriptlets, changelog"

  # Layout: install into a scratch root. Scriptlets would run chrooted in a root without
  # systemd, so they are skipped; the user they would create is added by hand.
  build_bumped
  local root="$scratch/rpmroot"
  mkdir -p "$root/etc"
  printf 'root:x:0:0:root:/root:/bin/sh\nedge-agent:x:997:997::/var/lib/edge-agent:/usr/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nedge-agent:x:997:\n' >"$root/etc/group"
  rpm --root "$root" --initdb
  rpm_quiet --root "$root" -i --nodeps --noscripts "$rpm" || fail "rpm --root -i failed"
  [ -x "$root/usr/bin/edge-agent" ] || fail "rpm --root: /usr/bin/edge-agent missing or not executable"
  head -1 "$root/usr/bin/edge-agent" | grep -qx '#!/usr/bin/node' || fail "rpm --root: /usr/bin/edge-agent does not start with #!/usr/bin/node"
  [ "$(stat -c '%a %u:%g' "$root/etc/edge-agent/config.yaml")" = "640 0:997" ] \
    || fail "rpm --root: config.yaml is $(stat -c '%a %u:%g' "$root/etc/edge-agent/config.yaml"), not 640 root:edge-agent"
  [ -f "$root/usr/lib/systemd/system/edge-agent.service" ] || fail "rpm --root: unit missing"
  rpm --root "$root" -V --nodeps edge-agent || fail "rpm --root -V: installed files differ from the package"
  ok "rpm --root install: layout, modes, owners"

  echo "scraper: edited-by-admin" >>"$root/etc/edge-agent/config.yaml"
  rpm_quiet --root "$root" -U --nodeps --noscripts "$bumped_rpm"
  [ "$(rpm --root "$root" -q --qf '%{VERSION}' edge-agent)" = "$bumped_version" ] || fail "rpm -U did not upgrade"
  grep -qx 'scraper: edited-by-admin' "$root/etc/edge-agent/config.yaml" || fail "rpm -U replaced the edited config"
  ok "rpm --root upgrade keeps the edited config"
  rpm_quiet --root "$root" -e --nodeps --noscripts edge-agent
  [ ! -e "$root/usr/bin/edge-agent" ] || fail "rpm -e left /usr/bin/edge-agent"
  [ -f "$root/etc/edge-agent/config.yaml.rpmsave" ] || fail "rpm -e did not keep the edited config as config.yaml.rpmsave"
  ok "rpm --root erase keeps the edited config as .rpmsave"
}

# ---- deb -------------------------------------------------------------------------------------
# The mirror this machine's apt uses (scripts/debian-mirror.sh), or EDGE_AGENT_TEST_MIRROR.
mirror() {
  if [ -n "${EDGE_AGENT_TEST_MIRROR:-}" ]; then echo "$EDGE_AGENT_TEST_MIRROR"; return; fi
  scripts/debian-mirror.sh bookworm || fail "no Debian mirror to debootstrap from (above); or set EDGE_AGENT_TEST_MIRROR=URL"
}

debian_root_tarball() {
  local tarball="$cache/bookworm-minbase.tar"
  mkdir -p "$cache"
  (
    flock 9
    if [ ! -f "$tarball" ]; then
      local dir="$scratch/debootstrap" start=$SECONDS url
      url=$(mirror)
      echo "test-packages: debootstrap --variant=minbase bookworm from $url (cached in $tarball)" >&2
      debootstrap --variant=minbase bookworm "$dir" "$url" >"$scratch/debootstrap.log" 2>&1 \
        || { tail -20 "$scratch/debootstrap.log" >&2; fail "debootstrap failed"; }
      tar -C "$dir" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
      rm -rf "$dir"
      echo "test-packages: debootstrap took $((SECONDS - start)) s" >&2
    fi
  ) 9>"$cache/lock"
  echo "$tarball"
}

in_root() { chroot "$R" "$@"; }
apt_in_root() {
  DEBIAN_FRONTEND=noninteractive chroot "$R" apt-get -y -q -o Dpkg::Use-Pty=0 \
    -o Dpkg::Options::=--force-unsafe-io -o APT::Install-Recommends=false "$@"
}

dpkg_status() { in_root dpkg-query -W -f='${db:Status-Abbrev}' edge-agent 2>/dev/null | tr -d ' ' || true; }

# Every command `edge-agent --help` lists runs from the bundle on the root's Node: rows with
# [--config FILE] must load the command module and reject a missing config (exit 2, "bad
# config"); other rows that need no argument must run without an internal error. No list of
# commands is kept here, so commands added later are covered.
check_commands() {
  local help rows=0 ran=0 row
  help=$(in_root edge-agent --help) || fail "edge-agent --help failed"
  while IFS= read -r row; do
    rows=$((rows + 1))
    local -a tokens words=() flags=()
    read -r -a tokens <<<"${row#*edge-agent }"
    local i=0 needs_args=0
    while [ $i -lt ${#tokens[@]} ] && [[ ${tokens[$i]} =~ ^[a-z][a-z0-9-]*$ ]]; do words+=("${tokens[$i]}"); i=$((i + 1)); done
    # Required flags come before the first "[...]"; one followed by a placeholder needs a value.
    while [ $i -lt ${#tokens[@]} ] && [[ ${tokens[$i]} != \[* ]]; do
      if [[ ${tokens[$i]} =~ ^--[a-z-]+$ ]] && [[ ${tokens[$((i + 1))]:-[} =~ ^(\[|--) ]]; then flags+=("${tokens[$i]}")
      else needs_args=1; fi
      i=$((i + 1))
    done
    local out code=0
    if [[ $row == *"[--config FILE]"* ]]; then
      out=$(timeout 20 chroot "$R" edge-agent "${words[@]}" "${flags[@]}" --config /nonexistent/edge-agent.yaml 2>&1 </dev/null) || code=$?
      # Every command names the missing file and exits 2 (doctor within its report, the others
      # as "bad config: FILE: ...").
      [ "$code" = 2 ] && echo "$out" | grep -qE '(bad config: )?/nonexistent/edge-agent.yaml: (\(file\): )?no such' \
        || fail "edge-agent ${words[*]} ${flags[*]} --config /nonexistent/edge-agent.yaml: exit $code, expected 2 and a config error: $out"
      ran=$((ran + 1))
    elif [ "$needs_args" = 0 ]; then
      out=$(timeout 20 chroot "$R" edge-agent "${words[@]}" "${flags[@]}" 2>&1 </dev/null) || code=$?
      [ "$code" -le 3 ] && ! echo "$out" | grep -qE 'internal error|Cannot find module' \
        || fail "edge-agent ${words[*]} ${flags[*]}: exit $code: $out"
      ran=$((ran + 1))
    else
      echo "note: edge-agent ${words[*]} needs arguments: not run here; scripts/build.sh checks its module is bundled"
    fi
  done < <(echo "$help" | grep -E '^  edge-agent [a-z]')
  [ "$rows" -gt 0 ] || fail "edge-agent --help lists no commands"
  ok "all $rows commands in --help are bundled; $ran ran on the root's Node $(in_root node --version)"
}

# A Debian 12 root at $1 with the package under test and Debian's packages $2...: R is set to
# it, its /proc mounted for apt. `bind` as $2 first makes the root a mount point of its own, as
# a booted system's / is (systemd remounts it).
prepare_root() {
  local tarball bind=0
  R=$1; shift
  if [ "${1:-}" = bind ]; then bind=1; shift; fi
  tarball=$(debian_root_tarball)
  mkdir -p "$R"
  tar -C "$R" -xf "$tarball"
  if [ "$bind" = 1 ]; then mount --bind "$R" "$R"; mounted+=("$R"); fi
  mount -t proc proc "$R/proc"; mounted+=("$R/proc")
  # Services must not start in the root (there is no systemd running): what policy-rc.d is for.
  printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"; chmod 0755 "$R/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
  # node-exporter's textfile directory, as prometheus-node-exporter leaves it: root's, 0755.
  mkdir -p "$R/var/lib/prometheus/node-exporter"
  mkdir -p "$cache/apt-archives"
  cp "$cache"/apt-archives/*.deb "$R/var/cache/apt/archives/" 2>/dev/null || true
  cp "$deb" "$R/tmp/"

  # Recommends off (systemd's would pull dbus and more); nodejs's ca-certificates by name, as
  # Debian's node warns on every start without it. Cached package lists are tried first and
  # refreshed when they no longer match the mirror.
  local install=(install "/tmp/$(basename "$deb")" ca-certificates "$@")
  rm -f "$scratch/apt.log.ok"
  if [ -d "$cache/apt-lists" ]; then
    cp -a "$cache/apt-lists/." "$R/var/lib/apt/lists/"
    apt_in_root "${install[@]}" >"$scratch/apt.log" 2>&1 || rm -f "$scratch/apt.log.ok"
    grep -q '^Setting up edge-agent ' "$scratch/apt.log" && touch "$scratch/apt.log.ok"
  fi
  if [ ! -f "$scratch/apt.log.ok" ]; then
    apt_in_root update >"$scratch/apt.log" 2>&1 || { tail -20 "$scratch/apt.log" >&2; fail "apt-get update in the Debian root failed"; }
    apt_in_root "${install[@]}" >>"$scratch/apt.log" 2>&1 \
      || { tail -30 "$scratch/apt.log" >&2; fail "apt-get install ./$(basename "$deb") $* failed"; }
    rm -rf "$cache/apt-lists"; mkdir -p "$cache/apt-lists"
    cp -a "$R/var/lib/apt/lists/." "$cache/apt-lists/"
  fi
  cp "$R"/var/cache/apt/archives/*.deb "$cache/apt-archives/" 2>/dev/null || true
}

stage_deb() {
  need_packages
  build_bumped
  local start=$SECONDS
  prepare_root "$scratch/root"
  cp "$bumped_deb" "$R/tmp/"
  local node
  node=$(in_root node --version)
  [[ $node == v18.* ]] || fail "the root's nodejs is $node, expected Debian 12's 18"
  ok "apt-get install ./$(basename "$deb") pulled Debian's nodejs $node ($((SECONDS - start)) s)"

  # Installed as Debian policy and the units want it.
  [ "$(dpkg_status)" = ii ] || fail "dpkg status is $(dpkg_status)"
  [ "$(in_root edge-agent --version)" = "edge-agent $version" ] || fail "edge-agent --version: $(in_root edge-agent --version)"
  local pw
  pw=$(in_root getent passwd edge-agent) || fail "no edge-agent user"
  IFS=: read -r _ _ uid _ _ home shell <<<"$pw"
  [ "$uid" -lt 1000 ] && [ "$shell" = /usr/sbin/nologin ] && [ "$home" = /var/lib/edge-agent ] \
    || fail "edge-agent user is not a system user without login: $pw"
  [ "$(in_root stat -c '%a %U:%G' /etc/edge-agent/config.yaml)" = "640 root:edge-agent" ] \
    || fail "config.yaml is $(in_root stat -c '%a %U:%G' /etc/edge-agent/config.yaml), expected 640 root:edge-agent"
  in_root dpkg-query -W -f='${Conffiles}' edge-agent | grep -q '/etc/edge-agent/config.yaml' || fail "config.yaml is not a conffile"
  in_root dpkg-query -W -f='${Conffiles}' edge-agent | grep -q '/etc/snmp/snmpd.conf.d/edge-agent.conf' || fail "the snmpd.conf.d drop-in is not a conffile"
  [ -L "$R/etc/systemd/system/multi-user.target.wants/edge-agent.service" ] || fail "edge-agent.service is not enabled"
  [ ! -e "$R/etc/systemd/system/multi-user.target.wants/edge-agent-receiver.service" ] || fail "edge-agent-receiver.service is enabled; it must not be by default"
  for unit in edge-agent edge-agent-receiver; do
    in_root systemd-analyze verify --man=no "/lib/systemd/system/$unit.service" || fail "systemd-analyze verify $unit.service"
  done
  [ -f "$R/usr/share/man/man8/edge-agent.8.gz" ] && [ -f "$R/usr/share/man/man5/edge-agent.yaml.5.gz" ] || fail "man pages missing"
  [ -f "$R/usr/share/edge-agent/config.schema.json" ] || fail "the config's JSON Schema is not in /usr/share/edge-agent"
  if [ "$mib" = 1 ]; then
    [ -f "$R/usr/share/snmp/mibs/EDGE-AGENT-MIB.txt" ] || fail "the MIB is not in /usr/share/snmp/mibs"
  fi
  ok "layout: system user, config 0640 root:edge-agent conffile, agent enabled, receiver not, units verify"

  # The services' user reads the config and writes the textfile directory; others cannot read it.
  in_root runuser -u edge-agent -- edge-agent status --config /etc/edge-agent/config.yaml >/dev/null \
    || fail "edge-agent status --config /etc/edge-agent/config.yaml as user edge-agent failed"
  local out code=0
  out=$(in_root runuser -u nobody -- edge-agent status --config /etc/edge-agent/config.yaml 2>&1) || code=$?
  [ "$code" = 2 ] && echo "$out" | grep -q 'permission denied' || fail "user nobody could read the config (exit $code): $out"
  in_root runuser -u edge-agent -- sh -c 'echo "# test" > /var/lib/prometheus/node-exporter/edge-agent-test.prom' \
    || fail "user edge-agent cannot write node-exporter's textfile directory (tmpfiles.d ACL)"
  rm -f "$R/var/lib/prometheus/node-exporter/edge-agent-test.prom"
  ok "config readable by the edge-agent user only; textfile directory writable by it"

  local json
  json=$(in_root edge-agent status --json) || fail "edge-agent status --json failed"
  echo "$json" | node -e '
    const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const missing = ["agent", "host", "ipv6", "tailnet", "services", "firewall"].filter((k) => !(k in s));
    if (missing.length || s.agent.version !== process.argv[1]) { console.error("status --json:", missing, s.agent); process.exit(1); }
  ' "$version" || fail "edge-agent status --json is not a NodeState of version $version"
  ok "edge-agent status --json"
  code=0
  json=$(in_root edge-agent doctor --json) || code=$?
  [ "$code" -le 1 ] || fail "edge-agent doctor --json exited $code"
  echo "$json" | node -e '
    const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const ids = d.checks.map((c) => c.id);
    for (const id of ["config", "ipv6-prefix", "tailscaled", "node-exporter", "snmpd"]) if (!ids.includes(id)) { console.error("doctor --json lacks check", id, ids); process.exit(1); }
  ' || fail "edge-agent doctor --json is not the doctor document"
  ok "edge-agent doctor --json (exit $code: findings on a host without the services)"
  check_commands

  # Upgrade to a newer build keeps the edited config (and its mode and group).
  sed -i 's/^#scraper: scraper$/scraper: edited-by-admin/' "$R/etc/edge-agent/config.yaml"
  grep -qx 'scraper: edited-by-admin' "$R/etc/edge-agent/config.yaml" || fail "could not edit the config"
  apt_in_root install "/tmp/edge-agent_${bumped_version}_all.deb" >>"$scratch/apt.log" 2>&1 \
    || { tail -30 "$scratch/apt.log" >&2; fail "upgrade to $bumped_version failed"; }
  [ "$(in_root edge-agent --version)" = "edge-agent $bumped_version" ] || fail "after the upgrade: $(in_root edge-agent --version)"
  grep -qx 'scraper: edited-by-admin' "$R/etc/edge-agent/config.yaml" || fail "the upgrade replaced the edited config"
  [ "$(in_root stat -c '%a %U:%G' /etc/edge-agent/config.yaml)" = "640 root:edge-agent" ] || fail "the upgrade changed the config's mode or group"
  in_root runuser -u edge-agent -- edge-agent status --config /etc/edge-agent/config.yaml --json | grep -q '"version": "'"$bumped_version"'"' \
    || fail "the upgraded agent does not load the edited config"
  [ -L "$R/etc/systemd/system/multi-user.target.wants/edge-agent.service" ] || fail "the upgrade disabled edge-agent.service"
  ok "upgrade $version -> $bumped_version keeps the edited config, its mode and the enabled unit"

  # What the services create at run time (StateDirectory=edge-agent).
  mkdir -p "$R/var/lib/edge-agent/outbox"; echo '{}' >"$R/var/lib/edge-agent/fleet.json"
  in_root chown -R edge-agent:edge-agent /var/lib/edge-agent

  # remove: program gone, conffile and state kept (policy 10.7.3).
  apt_in_root remove edge-agent >>"$scratch/apt.log" 2>&1 || fail "apt-get remove failed"
  [ "$(dpkg_status)" = rc ] || fail "after remove, dpkg status is $(dpkg_status), expected rc"
  [ ! -e "$R/usr/bin/edge-agent" ] && [ ! -e "$R/lib/systemd/system/edge-agent.service" ] || fail "remove left the program or the unit"
  grep -qx 'scraper: edited-by-admin' "$R/etc/edge-agent/config.yaml" || fail "remove did not keep the edited config"
  [ -d "$R/var/lib/edge-agent/outbox" ] || fail "remove deleted the state directory"
  ok "remove keeps the conffile and the state"

  # purge: conffile, state and the enable symlinks gone; the system user stays (see postrm).
  apt_in_root purge edge-agent >>"$scratch/apt.log" 2>&1 || fail "apt-get purge failed"
  [ -z "$(dpkg_status)" ] || [ "$(dpkg_status)" = un ] || [ "$(dpkg_status)" = pn ] || fail "after purge, dpkg status is $(dpkg_status)"
  [ ! -e "$R/etc/edge-agent" ] || fail "purge left /etc/edge-agent: $(ls -A "$R/etc/edge-agent")"
  [ ! -e "$R/var/lib/edge-agent" ] || fail "purge left /var/lib/edge-agent"
  [ ! -e "$R/etc/systemd/system/multi-user.target.wants/edge-agent.service" ] || fail "purge left the enable symlink"
  in_root getent passwd edge-agent >/dev/null || fail "purge removed the system user (Debian keeps system users)"
  ok "purge removes the conffile, the state and the enable symlink; the system user stays"
  echo "deb stage took $((SECONDS - start)) s"
}

# ---- unit ------------------------------------------------------------------------------------
# Debian's systemd as PID 1 of new PID, mount, network, UTS and IPC namespaces, rooted in the
# Debian root (as systemd-nspawn would, which Debian keeps in another package): the package's own
# unit starts at boot, as on a host, with every setting it has.
in_unit() { nsenter -t "$sd_pid" -m -u -i -n -p -r -w "$@"; }
# This machine's tools in the root's network namespace (the minbase root has no iproute2).
in_unit_net() { nsenter -t "$sd_pid" -n "$@"; }
unit_prop() { in_unit systemctl show edge-agent -P "$1"; }
# Read whole, then searched: with pipefail, grep -q leaving early could fail journalctl's write.
journal_has() { local journal; journal=$(in_unit journalctl -u edge-agent --no-pager -o cat) && [[ $journal == *"$1"* ]]; }
textfile_has() { in_unit grep -qE "$1" /var/lib/prometheus/node-exporter/edge_agent.prom 2>/dev/null; }
wait_for() {
  local what=$1 seconds=$2; shift 2
  local until=$((SECONDS + seconds))
  until "$@"; do
    [ $SECONDS -lt $until ] || { in_unit journalctl -u edge-agent --no-pager -o cat -n 30 >&2 || true; fail "$what: not within $seconds s"; }
    sleep 0.2
  done
}

stage_unit() {
  need_packages
  local start=$SECONDS
  # Debian's own snmpd with its stock snmpd.conf, and the snmp tools to walk it.
  prepare_root "$scratch/unit-root" bind systemd nftables snmpd snmp
  umount "$R/proc"
  # The operator's allocation, so the documentation prefix below counts as a global /64.
  printf '\nipv6:\n  allocations: [2001:db8:100::/56]\n' >>"$R/etc/edge-agent/config.yaml"

  # A cgroup of its own in each hierarchy this machine has, as systemd-nspawn gives its
  # containers: the booted systemd builds its tree below it, and cleanup removes the whole.
  local hierarchy cg="edge-agent-test-$$"
  for hierarchy in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
    [ -f "$hierarchy/cgroup.procs" ] && [ ! -d "$hierarchy/$cg" ] || continue
    mkdir "$hierarchy/$cg" && cgroups+=("$hierarchy/$cg")
  done
  (
    for hierarchy in "${cgroups[@]}"; do echo "$BASHPID" >"$hierarchy/cgroup.procs"; done
    exec unshare --pid --fork --mount --net --uts --ipc --root="$R" --mount-proc \
      /usr/bin/env container=edge-agent-test /lib/systemd/systemd --system --log-target=journal
  ) </dev/null >"$scratch/systemd.log" 2>&1 &
  local unshare_pid=$! i
  for i in $(seq 50); do sd_pid=$(pgrep -P "$unshare_pid" || true); [ -n "$sd_pid" ] && break; sleep 0.1; done
  [ -n "$sd_pid" ] || fail "systemd did not start: $(cat "$scratch/systemd.log")"
  booted+=("$sd_pid")
  wait_for "systemd to finish booting" 60 eval '[[ $(in_unit systemctl is-system-running 2>/dev/null) =~ ^(running|degraded)$ ]]'
  [ "$(in_unit systemctl is-enabled edge-agent)" = enabled ] || fail "edge-agent.service is not enabled in the booted root"
  ok "Debian's $(in_unit systemctl --version | head -1 | cut -d' ' -f1,2) booted the root; edge-agent.service enabled"

  # What the unit is run with, read back from systemd: the settings the README promises.
  [ "$(unit_prop User)" = edge-agent ] && [ "$(unit_prop MemoryDenyWriteExecute)" = yes ] \
    && [ "$(unit_prop CapabilityBoundingSet)" = cap_net_admin ] && [ "$(unit_prop AmbientCapabilities)" = cap_net_admin ] \
    && [ "$(unit_prop ProtectSystem)" = strict ] && [ "$(unit_prop NoNewPrivileges)" = yes ] \
    || fail "edge-agent.service runs without its hardening: $(in_unit systemctl show edge-agent -p User -p MemoryDenyWriteExecute -p CapabilityBoundingSet -p ProtectSystem)"

  # A host's network: a global /64 and an IPv4 address on eth0 (a veth pair inside the namespace).
  in_unit_net ip link add eth0 type veth peer name eth0-peer
  in_unit_net ip link set eth0-peer up
  in_unit_net ip link set eth0 up
  in_unit_net ip -6 addr add 2001:db8:100:1::10/64 dev eth0 nodad
  in_unit_net ip addr add 192.0.2.10/24 dev eth0
  # prometheus-node-exporter would have made the textfile directory; the package's tmpfiles.d
  # entry then grants the service write access.
  in_unit systemd-tmpfiles --create /usr/lib/tmpfiles.d/edge-agent.conf
  # Stopped, and its textfile removed, before the start: the agent started at boot may still be
  # in its first cycle and write a textfile while it stops, which would pass for the new one's.
  in_unit systemctl stop edge-agent
  in_unit rm -f /var/lib/prometheus/node-exporter/edge_agent.prom
  in_unit systemctl start edge-agent
  wait_for "edge_agent.prom with the firewall read by nft and inbound IPv6 accepted" 30 \
    textfile_has '^edge_agent_firewall_verdict\{check="inbound-ipv6",verdict="accept"\} 1$'
  textfile_has '^edge_agent_probe_up\{probe="firewall"\} 1$' || fail "the firewall probe is down under the unit"
  textfile_has '^edge_agent_ipv6_global_prefixes 1$' || fail "the agent under the unit does not see eth0's /64"
  ok "under the unit (W^X, CAP_NET_ADMIN only, ProtectSystem=strict, ...) the agent reads the ruleset and writes the textfile"

  # Debian's snmpd, booted with its stock snmpd.conf and the package's snmpd.conf.d drop-in,
  # serves every read-only object of the shipped MIB, registered by the unit's agent over AgentX,
  # to the stock community: what the scraper's poll of 161/udp reads.
  local objects walked
  objects=$(grep -c 'MAX-ACCESS *read-only' "$R/usr/share/snmp/mibs/EDGE-AGENT-MIB.txt")
  [ "$objects" -gt 0 ] || fail "the shipped MIB declares no read-only objects"
  # The stock view ends right after the subtree, so snmpwalk's last line is its end-of-view note.
  walk_count() { in_unit snmpwalk -v2c -c public -On -t 1 -r 0 127.0.0.1 1.3.6.1.3.9163.1 2>/dev/null | grep '^\.1\.3\.6\.1\.3\.9163\.1\.' | grep -vc 'No more variables left' || true; }
  local until=$((SECONDS + 30))
  until [ "$(walk_count)" = "$objects" ]; do
    [ $SECONDS -lt $until ] || fail "snmpwalk of 1.3.6.1.3.9163.1 through Debian's snmpd did not return all $objects objects within 30 s (it returned $(walk_count)): $(in_unit snmpwalk -v2c -c public -On -t 1 -r 0 127.0.0.1 1.3.6.1.3.9163.1 2>&1 | head -5); snmpd's journal: $(in_unit journalctl -u snmpd --no-pager -o cat -n 20)"
    sleep 0.5
  done
  walked=$(in_unit snmpwalk -v2c -c public -On 127.0.0.1 1.3.6.1.3.9163.1)
  echo "$walked" | sed 's/^/  /'
  echo "$walked" | grep -q "^\.1\.3\.6\.1\.3\.9163\.1\.19\.0 = STRING: \"$version\"$" || fail "edgeAgentVersion.0 is not \"$version\": $walked"
  # At the default 30 s interval: the registration itself rewrites the textfile.
  wait_for "edge_agent_agentx_registered 1 in the textfile" 10 textfile_has '^edge_agent_agentx_registered 1$'

  ok "snmpwalk through Debian's snmpd (stock snmpd.conf + /etc/snmp/snmpd.conf.d/edge-agent.conf) returns all $objects EDGE-AGENT-MIB objects"
  in_unit edge-agent doctor --check agentx | grep -q 'serves EDGE-AGENT-MIB through AgentX to community "public"' \
    || fail "doctor --check agentx does not say the objects are served: $(in_unit edge-agent doctor --check agentx)"
  ok "edge-agent doctor --check agentx: ok"

  # A rule dropping tailscaled's port reaches the agent through nft monitor, its child, or, if it
  # comes while nft is still subscribing, through the cycle the agent runs once the monitor is
  # trusted. Either way it is a change after the first cycle, which the textfile above shows.
  printf 'table inet edge_agent_test {\n  chain input { type filter hook input priority 0; policy accept; udp dport 41641 drop; }\n}\n' | in_unit nft -f -
  wait_for "the dropping rule in edge_agent.prom" 15 \
    textfile_has '^edge_agent_firewall_verdict\{check="inbound-ipv6",verdict="drop"\} 1$'
  # The agent logs the event before it writes the textfile, but pino writes asynchronously and
  # journald stores the line after that.
  wait_for "a firewallChanged line in the journal" 15 \
    journal_has '"event":"firewallChanged","msg":"firewall on UDP 41641: inbound-ipv6 drop'
  ok "nft monitor under the unit: a rule dropping UDP 41641 is a firewallChanged event and a drop verdict"

  local journal
  journal=$(in_unit journalctl -u edge-agent --no-pager -o cat)
  echo "$journal" | grep -q '"level":40,.*"msg":"tailscaled unavailable: tailscaled is not running here' \
    || fail "the start did not warn that tailscaled is missing: $journal"
  ! echo "$journal" | grep -qE 'Check failed|SetPermissions|Fatal error|status=226' || fail "the journal shows a crash or a sandbox failure: $journal"
  [ "$(unit_prop NRestarts)" = 0 ] || fail "edge-agent.service restarted $(unit_prop NRestarts) times"

  local stop_start=$SECONDS
  in_unit systemctl stop edge-agent
  [ $((SECONDS - stop_start)) -le 5 ] && [ "$(unit_prop Result)" = success ] && [ "$(unit_prop ExecMainStatus)" = 0 ] \
    || fail "systemctl stop: result $(unit_prop Result), status $(unit_prop ExecMainStatus), $((SECONDS - stop_start)) s"
  ok "systemctl stop: exit 0 within 5 s, no restarts before it"
  echo "unit stage took $((SECONDS - start)) s"
}

case "${1:-all}" in
  lint) stage_lint ;;
  rpm) stage_rpm ;;
  deb) stage_deb ;;
  unit) stage_unit ;;
  all) stage_lint; stage_rpm; stage_deb; stage_unit ;;
  *) echo "usage: $0 [lint|rpm|deb|unit|all]" >&2; exit 2 ;;
esac
