// Long-lived helper started with `ip netns exec NS node firewall-udp-peer.cjs`: Node cannot
// setns(), so each namespace gets one of these. It speaks JSON lines on stdin/stdout:
//   {op:"listen", ports}             bind dual-stack UDP sockets, remember what arrives
//   {op:"send", packets:[{id, family, saddr, sport, daddr, dport}]}  one datagram each, payload = id
//   {op:"drain", waitMs}             after waitMs, the ids received since the last drain
//   {op:"exec", cmd, args, input}    run a command in this namespace (nft -f -, conntrack -F)
"use strict";
const dgram = require("node:dgram");
const { execFileSync } = require("node:child_process");
const readline = require("node:readline");

const listening = new Map();
let received = new Set();

function listen(ports) {
  return Promise.all(ports.filter((p) => !listening.has(p)).map((port) => new Promise((resolve, reject) => {
    // reuseAddr: the same namespace also sends from these ports (bound to one address).
    const s = dgram.createSocket({ type: "udp6", ipv6Only: false, reuseAddr: true });
    s.on("message", (msg) => received.add(msg.toString()));
    s.once("error", reject);
    s.bind({ port, address: "::" }, () => { listening.set(port, s); resolve(); });
  })));
}

function sendOne(p) {
  return new Promise((resolve) => {
    const s = dgram.createSocket({ type: p.family === "ipv6" ? "udp6" : "udp4", reuseAddr: true });
    let done = false;
    const finish = (err) => { if (done) return; done = true; try { s.close(); } catch {} resolve(err ? err.code || err.message : null); };
    s.once("error", finish);
    s.bind({ address: p.saddr, port: p.sport }, () => {
      s.send(Buffer.from(p.id), p.dport, p.daddr, (err) => finish(err));
    });
  });
}

async function handle(req) {
  switch (req.op) {
    case "listen": await listen(req.ports); return { ok: true };
    case "send": {
      const errors = {};
      for (const p of req.packets) { const e = await sendOne(p); if (e) errors[p.id] = e; }
      return { ok: true, errors };
    }
    case "drain": {
      await new Promise((r) => setTimeout(r, req.waitMs || 0));
      const out = [...received];
      received = new Set();
      return { ok: true, received: out };
    }
    case "exec": {
      try {
        const stdout = execFileSync(req.cmd, req.args || [], { input: req.input || "", encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], maxBuffer: 512 * 1024 * 1024, env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
        return { ok: true, stdout };
      } catch (e) {
        return { ok: false, error: `${req.cmd} ${(req.args || []).join(" ")}: ${(e.stderr || e.message).toString().trim()}` };
      }
    }
    default: return { ok: false, error: `unknown op ${req.op}` };
  }
}

const rl = readline.createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on("line", (line) => {
  chain = chain.then(async () => {
    let reply;
    try { reply = await handle(JSON.parse(line)); } catch (e) { reply = { ok: false, error: String(e && e.message || e) }; }
    process.stdout.write(JSON.stringify(reply) + "\n");
  });
});
rl.on("close", () => process.exit(0));
