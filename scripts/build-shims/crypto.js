// Bundled in place of the `crypto` that net-snmp requires at load: Node's crypto module pulls in
// some fifteen internal modules (keys, ciphers, X.509, Diffie-Hellman...) that a daemon speaking
// only SNMPv2c never calls. Each property is fetched from the real module on first use, so SNMPv3
// (which hashes and encrypts) works unchanged. Only property reads are forwarded, which is all
// net-snmp does with it. Our own sources import "node:crypto", which this alias does not touch.
let real;
module.exports = new Proxy({}, { get: (_, key) => (real ??= require("node:crypto"))[key] });
