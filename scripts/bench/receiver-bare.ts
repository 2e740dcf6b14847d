// The reference for scripts/bench/receiver.ts: net-snmp's own receiver with an empty handler
// (it only counts), on one loopback UDP port, with the given socket receive buffer and the same
// community and v3 user as the receiver under test. What the library does per notification, and
// nothing more. Prints {"http": PORT} once up; a GET there answers how many notifications it
// has handed to the handler.
//   receiver-bare.ts UDP_PORT BUFFER_BYTES COMMUNITY [USER AUTHKEY PRIVKEY]  (v3: SHA and AES)
import { createServer } from "node:http";
import snmp from "net-snmp";
import { createNetSnmpReceiver, receiverSockets } from "../../agent/snmp/net-snmp-internals";

const [port, bufferBytes, community, user, authKey, privKey] = process.argv.slice(2);
let count = 0;
const receiver = createNetSnmpReceiver({ sockets: [{ transport: "udp4", address: "127.0.0.1", port: Number(port) }], includeAuthentication: true }, (error) => {
  if (!error) count++;
});
const auth = (receiver as unknown as { getAuthorizer: () => any }).getAuthorizer();
auth.addCommunity(community);
if (user) auth.addUser({ name: user, level: snmp.SecurityLevel.authPriv, authProtocol: snmp.AuthProtocols.sha, authKey, privProtocol: snmp.PrivProtocols.aes, privKey });
for (const socket of receiverSockets(receiver))
  socket.once("listening", () => {
    if (Number(bufferBytes) > 0) socket.setRecvBufferSize(Number(bufferBytes));
  });
const http = createServer((_req, res) => res.end(String(count)));
http.listen(0, "127.0.0.1", () => process.stdout.write(`${JSON.stringify({ http: (http.address() as { port: number }).port })}\n`));
