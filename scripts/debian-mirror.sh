#!/usr/bin/env bash
# Prints the Debian archive URI this machine's apt is configured with, for debootstrap. apt reads
# its own sources (sources.list and sources.list.d/*.list and *.sources, one-line and deb822
# forms, [options], Enabled: no) and `apt-get indextargets` lists them, so nothing is parsed
# here. In order of preference, a `deb` source:
#   1. of SUITE as written in the sources (default bookworm);
#   2. whose downloaded Release file says Origin: Debian and Codename: SUITE (e.g. "stable");
#   3. whose downloaded Release file says Origin: Debian and Label: Debian (the archive itself,
#      not Debian-Security or a third party): it serves every suite, SUITE included.
# Nothing found is an error listing what apt has, with no built-in fallback URL.
# Usage: scripts/debian-mirror.sh [SUITE] [-o APT::CONFIG=VALUE]...   (options go to apt-get)
set -euo pipefail
suite=bookworm
if [ $# -gt 0 ] && [[ $1 != -* ]]; then suite=$1; shift; fi

# "TYPE URI FIELD FIELD" lines of the deb sources, one per source and suite.
listed() {
  local out
  out=$(apt-get indextargets "$@" 2>&1) || { echo "debian-mirror: apt-get indextargets failed: $out" >&2; exit 1; }
  echo "$out" | awk '$1 == "deb"' | sort -u
}
# Only URIs debootstrap can fetch from; the trailing slash apt adds is dropped.
usable() { awk '$2 ~ /^(https?:\/\/|file:)/ { sub(/\/$/, "", $2); print $2; exit }'; }

written=$(listed --no-release-info --format '$(TARGET_OF) $(REPO_URI) $(RELEASE)' "$@")
released=$(listed --format '$(TARGET_OF) $(REPO_URI) $(ORIGIN)|$(CODENAME)|$(LABEL)' "$@")

uri=$(echo "$written" | awk -v s="$suite" '$3 == s' | usable)
[ -n "$uri" ] || uri=$(echo "$released" | awk -v s="$suite" '$3 == "Debian|" s "|Debian"' | usable)
[ -n "$uri" ] || uri=$(echo "$released" | awk '$3 ~ /^Debian\|[^|]*\|Debian$/' | usable)
if [ -z "$uri" ]; then
  {
    echo "debian-mirror: no Debian archive for $suite among this machine's apt sources (apt-get indextargets lists:"
    echo "${written:-no deb sources at all}" | awk '{ print "  " $0 }'
    echo ")"
    echo "Add a Debian mirror to /etc/apt/sources.list.d/ (e.g. Types: deb / URIs: <mirror>/debian / Suites: $suite / Components: main) and run apt-get update."
  } >&2
  exit 1
fi
echo "$uri"
