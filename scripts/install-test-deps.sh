#!/usr/bin/env bash
# Installs the Debian packages the test suite starts or calls: the real daemons and tools
# (snmpd, snmptrapd, node-exporter, prometheus, alertmanager, snmp_exporter and its generator,
# nftables, iptables, conntrack, iproute2, smitools, lintian, rpm, rpmlint, debootstrap), the
# debhelper tool chain, snmptt (with libnet-ip-perl, which it needs for IPv6 but only
# recommends), python3
# (test/helpers/unit-exec.ts sets the kernel's W^X flag with it, as systemd does for the unit),
# openssl (test/helpers/certificates.ts makes a test CA for node-exporter's TLS), chromium with a
# font (headless, it renders the receiver's fleet page in test/integration/fleet-page.test.ts),
# and the firewall managers whose rulesets the firewall tests load into namespaces (ufw,
# firewalld, shorewall, shorewall6, ferm; none is started on the host).
# Idempotent: packages already present are left alone.
set -euo pipefail

packages=(
  snmp snmpd snmptrapd smitools snmptt libnet-ip-perl
  prometheus-node-exporter prometheus prometheus-alertmanager prometheus-snmp-exporter
  chromium fonts-dejavu-core
  nftables iptables conntrack iproute2 procps curl util-linux python3
  lintian rpm rpmlint debootstrap
  debhelper devscripts fakeroot dpkg-dev systemd
  ca-certificates openssl
  ufw firewalld shorewall shorewall6 ferm
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-test-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The daemons must not start themselves: tests start what they need on free ports.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}"
