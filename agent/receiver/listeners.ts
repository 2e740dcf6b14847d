// The receiver's UDP listeners: net-snmp's receiver on every receiver.listen address with the
// configured communities and users, every datagram counted, v3 datagrams from unknown engines
// admitted through the EngineGate, v2c EDGE-AGENT-MIB notifications read straight from the
// datagram (v2c-notification.ts), and net-snmp's handler run under a guard for the rest.
import { createSocket, type Socket } from "node:dgram";
import type { Config } from "../config";
import { authorizer, createNetSnmpReceiver, interceptDatagrams, receiverSockets, sendEncoded, watchReports, type NetSnmpReceiver, type Rinfo, type UsmReportKind } from "../snmp/net-snmp-internals";
import type { OidTree } from "../snmp/oid-tree";
import { toNetSnmpUser } from "../snmp/usm";
import { EngineGate } from "./engine-gate";
import { canonicalAddress } from "./identity";
import { parseListenAddress, type ListenAddress } from "./listen-address";
import type { LogLimiter } from "./log-limiter";
import type { ReceiverMetrics } from "./metrics";
import type { Notification } from "./notification";
import { readV2cNotification, type DirectNotification } from "./v2c-notification";
import { v3EngineId } from "./v3-header";

export interface ListenerHandlers {
  /** net-snmp's callback: a notification, or an error carrying rinfo. */
  receive: (error: any, data: any) => void;
  /** A USM report net-snmp sent by itself (unknown user, missing authentication...). */
  report: (kind: UsmReportKind, rinfo: Rinfo, user: string | undefined) => void;
  /** A notification read without net-snmp (v2c-notification.ts); an inform was acknowledged already. */
  notification: (n: Notification) => void;
  /** net-snmp's handler threw for this datagram. */
  crashed: (rinfo: Rinfo, problem: string) => void;
  /** The OID tree notifications are read against. */
  tree: () => OidTree;
  metrics: ReceiverMetrics;
  limiter: LogLimiter;
}

function listenError(address: ListenAddress, error: NodeJS.ErrnoException): Error {
  const hint =
    error.code === "EADDRINUSE"
      ? " (another trap receiver, such as snmptrapd, holds the port: stop it with `systemctl stop snmptrapd`, or change receiver.listen)"
      : error.code === "EACCES"
        ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE: run it as the packaged service, or set receiver.listen to a higher port)"
        : error.code === "EADDRNOTAVAIL"
          ? " (no interface has that address: check receiver.listen)"
          : "";
  return new Error(`cannot listen on ${address.text}: ${error.code ?? error.message}${hint}`);
}

/**
 * A storm of replays after an outage arrives at once: a deep socket buffer absorbs it while the
 * event loop catches up. The kernel caps the request at net.core.rmem_max; 0 keeps its default.
 */
function setBuffer(socket: Socket, bytes: number): void {
  if (bytes <= 0) return;
  try {
    socket.setRecvBufferSize(bytes);
  } catch {
    /* keep the buffer the socket has */
  }
}

function bufferOf(socket: Socket): number {
  try {
    return socket.getRecvBufferSize();
  } catch {
    return 0;
  }
}

function bound(socket: Socket, address: ListenAddress, bufferBytes: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(address, error));
    socket.once("error", onError);
    socket.once("listening", () => {
      socket.off("error", onError);
      setBuffer(socket, bufferBytes);
      resolve();
    });
  });
}

function closeSockets(receiver: NetSnmpReceiver): Promise<void> {
  return Promise.all(
    receiverSockets(receiver).map(
      (socket) =>
        new Promise<void>((resolve) => {
          try {
            socket.close(() => resolve());
          } catch {
            resolve();
          }
        }),
    ),
  ).then(() => undefined);
}

/** The communities as the direct reader compares them: their UTF-8 octets beside their text. */
type Communities = { text: string; octets: Buffer }[];

function communitiesOf(config: Config): Communities {
  return config.receiver.communities.map((text) => ({ text, octets: Buffer.from(text, "utf8") }));
}

/** The direct reader's answer, or null (net-snmp's to handle) also should the reader ever throw. */
function readDirect(buffer: Buffer, rinfo: Rinfo, communities: Communities, tree: OidTree): DirectNotification | null {
  try {
    return readV2cNotification(buffer, rinfo, communities, tree);
  } catch {
    return null;
  }
}

function authorize(receiver: NetSnmpReceiver, config: Config): void {
  const auth = authorizer(receiver);
  for (const community of [...auth.getCommunities()]) auth.deleteCommunity(community);
  for (const user of [...auth.getUsers()]) auth.deleteUser(user.name);
  for (const community of config.receiver.communities) auth.addCommunity(community);
  for (const user of config.receiver.users) auth.addUser(toNetSnmpUser(user));
}

export class Listeners {
  private constructor(
    private readonly receiver: NetSnmpReceiver,
    /** With the ports the sockets really bound. */
    readonly addresses: ListenAddress[],
    private readonly sockets: Socket[],
    /** Shared with the datagram handler, which reads it for every datagram. */
    private readonly communities: Communities,
  ) {}

  /** The receive buffer each socket has (what the kernel granted: twice the request, capped). */
  get recvBufferBytes(): number[] {
    return this.sockets.map(bufferOf);
  }

  static async open(config: Config, gate: EngineGate, handlers: ListenerHandlers): Promise<Listeners> {
    const addresses = config.receiver.listen.map(parseListenAddress);
    // Linux's IPv6 sockets take IPv4 too unless told not to, so "udp6:[::]:162" next to
    // "udp:0.0.0.0:162" would fail with EADDRINUSE: an IPv6 listener is IPv6-only when an IPv4
    // listener shares its port, and dual-stack when it is alone.
    const v6only = addresses.map((a) => a.transport === "udp6" && addresses.some((b) => b.transport === "udp4" && b.port === a.port));
    let created = 0;
    const dgramModule = { createSocket: (type: "udp4" | "udp6") => createSocket({ type, ipv6Only: v6only[created++] ?? false }) };
    // The engine of the datagram being processed: net-snmp calls back synchronously, so a
    // notification that arrives while it is set authenticated with that engine.
    let engine: string | null = null;
    const receiver = createNetSnmpReceiver(
      { sockets: addresses.map((a) => ({ transport: a.transport, address: a.address, port: a.port })), includeAuthentication: true, dgramModule },
      (error, data) => {
        if (!error && engine && typeof data?.pdu?.user === "string" && data.pdu.user) gate.learn(engine);
        handlers.receive(error, data);
      },
    );
    watchReports(receiver, handlers.report);
    authorize(receiver, config);
    const communities = communitiesOf(config);
    const sockets = receiverSockets(receiver);
    const ready = Promise.all(sockets.map((socket, i) => bound(socket, addresses[i], config.receiver.socketBuffer)));
    for (const socket of sockets)
      interceptDatagrams(receiver, socket, (buffer, rinfo, process) => {
        handlers.metrics.datagrams.inc();
        const id = v3EngineId(buffer);
        if (id !== null && !gate.isKnown(id) && !gate.admit(canonicalAddress(rinfo.address))) {
          const what = id === "" ? "v3_discovery" : "v3_engine";
          handlers.metrics.rateLimited.inc({ what });
          handlers.limiter.warn(`rate:${what}`, { source: canonicalAddress(rinfo.address), sourcePort: rinfo.port, what }, "dropped an SNMPv3 datagram unprocessed: its source sends too many from engines not yet authenticated (or discovery requests)");
          return;
        }
        engine = id;
        try {
          const direct = id === null ? readDirect(buffer, rinfo, communities, handlers.tree()) : null;
          if (direct) {
            // net-snmp acknowledges an inform before it hands it over; so does this.
            if (direct.response) sendEncoded(receiver, socket, direct.response, rinfo);
            handlers.notification(direct.notification);
          } else process();
        } catch (error) {
          handlers.crashed(rinfo, `cannot process: ${String((error as Error)?.message ?? error).slice(0, 120)}`);
        } finally {
          engine = null;
        }
      });
    try {
      await ready;
    } catch (error) {
      await closeSockets(receiver);
      throw error;
    }
    const actual = addresses.map((a, i) => ({ ...a, port: (sockets[i].address() as { port: number }).port }));
    return new Listeners(receiver, actual, sockets, communities);
  }

  /** Replaces the accepted communities and users and the buffer size (in place: a reload keeps the sockets). */
  authorize(config: Config): void {
    authorize(this.receiver, config);
    this.communities.splice(0, this.communities.length, ...communitiesOf(config));
    for (const socket of this.sockets) setBuffer(socket, config.receiver.socketBuffer);
  }

  close(): Promise<void> {
    return closeSockets(this.receiver);
  }
}
