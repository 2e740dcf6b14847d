// Load generator for the receiver benchmarks (started by v2c-traps.ts's sendTraps), run as its
// own process so it does not share a core's event loop with the receiver under test: sends COUNT
// copies of a v2c trap template to a UDP port at a steady RATE per second, writing a new sequence
// number (FIRST_SEQUENCE + i) and, with NODES, a node name (i % NODES, six digits) into each, so
// it can play a whole fleet heartbeating in turn. Prints what it sent as JSON. With "@FILE" for
// the template it sends the datagrams of FILE in order instead (each a 2-byte length and its
// bytes; v3 messages, which are encrypted and signed, are built by the bench beforehand).
//   trap-sender.ts PORT RATE COUNT TEMPLATE_HEX|@FILE SEQ_OFFSET NAME_OFFSETS NODES [FIRST_SEQUENCE]
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";

const [port, rate, count, templateHex, seqOffset, nameOffsetsText, nodes, first] = process.argv.slice(2);
const prebuilt: Buffer[] = [];
if (templateHex.startsWith("@")) {
  const file = readFileSync(templateHex.slice(1));
  for (let at = 0; at < file.length; at += 2 + file.readUInt16BE(at)) prebuilt.push(file.subarray(at + 2, at + 2 + file.readUInt16BE(at)));
}
const template = prebuilt.length ? Buffer.alloc(0) : Buffer.from(templateHex, "hex");
const offset = Number(seqOffset);
const nameOffsets = nameOffsetsText ? nameOffsetsText.split(",").filter(Boolean).map(Number) : [];
const nodeCount = Number(nodes || "0");
const total = Number(count);
const perSecond = Number(rate);
const socket = createSocket("udp4");
// Sequences with a 4-byte encoding (top byte 0x01..0x7f) keep the template's length fields valid.
const firstSequence = first ? Number(first) : 0x01000000;
if (!(firstSequence >= 0x01000000 && firstSequence + total <= 0x7fffffff)) throw new Error(`sequence numbers ${firstSequence}..${firstSequence + total} do not all have a 4-byte encoding`);

function datagram(i: number): Buffer {
  if (prebuilt.length) return prebuilt[i % prebuilt.length];
  const buf = Buffer.from(template);
  buf.writeUInt32BE(firstSequence + i, offset);
  if (nodeCount > 0) {
    const name = String(i % nodeCount).padStart(6, "0");
    for (const at of nameOffsets) buf.write(name, at, "latin1");
  }
  return buf;
}

let sent = 0;
const start = process.hrtime.bigint();
function pump(): void {
  const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
  const due = Math.min(total, Math.floor(elapsedS * perSecond));
  while (sent < due) socket.send(datagram(sent++), Number(port), "127.0.0.1");
  // Up to a fleet's reboot rate (a few thousand a second) sleep until the next one is due (1 ms
  // at least, the timers' grain: a few datagrams at once) rather than spin, which would take a
  // core from the receiver under test; faster, keep turning the event loop.
  const waitMs = Math.floor(((sent + 1) / perSecond - elapsedS) * 1000);
  if (sent < total) perSecond <= 2000 || waitMs >= 2 ? setTimeout(pump, Math.max(1, waitMs)) : setImmediate(pump);
  else setTimeout(() => {
    process.stdout.write(JSON.stringify({ sent, seconds: Number(process.hrtime.bigint() - start) / 1e9 }) + "\n");
    socket.close();
  }, 50);
}
pump();
