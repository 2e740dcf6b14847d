// Helper started with `ip netns exec NS node receiver-peer.cjs` for the receiver's hostile-peer
// tests: Node cannot setns(), so this process does the namespace's side. JSON lines on stdin,
// one answer line each on stdout:
//   {op:"send", from, to, port, datagrams:[hex], every}  send each datagram from address `from`
//                                                        (pausing 1 ms after every `every`) -> {sent}
//   {op:"get", url}                                      HTTP GET inside the namespace -> {status, text}
//   {op:"getMany", url, count}                           `count` GETs at once -> {statuses, lengths}
"use strict";
const dgram = require("node:dgram");
const readline = require("node:readline");

async function send({ from, to, port, datagrams, every = 20 }) {
  const socket = dgram.createSocket(from.includes(":") ? "udp6" : "udp4");
  await new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, from, resolve);
  });
  let sent = 0;
  for (const hex of datagrams) {
    await new Promise((resolve) => socket.send(Buffer.from(hex, "hex"), port, to, resolve));
    if (++sent % every === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  socket.close();
  return { sent };
}

async function get({ url }) {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

async function getMany({ url, count }) {
  const answers = await Promise.all(Array.from({ length: count }, () => get({ url })));
  return { statuses: answers.map((a) => a.status), lengths: answers.map((a) => a.text.length) };
}

const OPS = { send, get, getMany };

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (!line.trim()) return;
  const request = JSON.parse(line);
  OPS[request.op](request).then(
    (answer) => process.stdout.write(`${JSON.stringify(answer)}\n`),
    (error) => process.stdout.write(`${JSON.stringify({ error: String(error && error.message) })}\n`),
  );
});
