// For the receiver benchmarks (shipped-receiver.ts's liveHeapBytes): the live heap of a running
// Node process whose inspector is open (SIGUSR1), read through the DevTools protocol: a full
// garbage collection, then V8's used heap. Run with `node --experimental-websocket` (Node 20 has
// WebSocket behind that flag).
// Prints {"usedBytes": N, "totalBytes": N}.
//   live-heap.ts ws://127.0.0.1:PORT/UUID
interface Socket {
  send(text: string): void;
  close(): void;
  addEventListener(type: "open" | "error", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
}
const url = process.argv[2];
const WebSocketClass = (globalThis as unknown as { WebSocket?: new (url: string) => Socket }).WebSocket;
if (!WebSocketClass) throw new Error("no WebSocket in this Node: run it with --experimental-websocket (Node 20.10 or later)");
const ws = new WebSocketClass(url);
let id = 0;
const pending = new Map<number, (result: any) => void>();
const call = (method: string) =>
  new Promise<any>((resolve) => {
    pending.set(++id, resolve);
    ws.send(JSON.stringify({ id, method }));
  });
ws.addEventListener("message", (event) => {
  const message = JSON.parse(String(event.data));
  pending.get(message.id)?.(message.result);
  pending.delete(message.id);
});
ws.addEventListener("error", () => {
  process.stderr.write(`cannot connect to the inspector at ${url}\n`);
  process.exit(1);
});
ws.addEventListener("open", async () => {
  await call("HeapProfiler.collectGarbage");
  await call("HeapProfiler.collectGarbage");
  const usage = await call("Runtime.getHeapUsage");
  process.stdout.write(`${JSON.stringify({ usedBytes: usage.usedSize, totalBytes: usage.totalSize })}\n`);
  ws.close();
  process.exit(0);
});
