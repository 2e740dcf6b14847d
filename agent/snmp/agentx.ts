// The AgentX subagent: serves EDGE-AGENT-MIB's read-only objects (as scalars, instance .0)
// through the local snmpd, so the scraper's existing poll of 161/udp sees them. The values are
// whatever the daemon last handed to update(); this file never probes.
//
// net-snmp's subagent has two weaknesses we work around here (reference/net-snmp.md):
//  - it parses one AgentX PDU per TCP data event, so PDUs that arrive together (or split) are
//    lost: we frame the TCP stream ourselves and hand it whole PDUs, and still register the
//    providers one after another, never in parallel;
//  - it reports success for any Response, even an AgentX error (duplicateRegistration...): we
//    check pdu.error ourselves.
// It has no timeouts and no reconnect either: each request gets a deadline, and when snmpd goes
// away (restart, upgrade) we reconnect with a growing backoff and register everything again.
import snmp from "net-snmp";
import type { Logger } from "../log";
import { OBJECTS, type ObjectDef, type OidTree } from "./oid-tree";
import type { ObjectValues } from "./state-objects";
import { encodeValue } from "./varbinds";

const HEADER_BYTES = 20;
const NETWORK_BYTE_ORDER = 0x10;
const REQUEST_TIMEOUT_MS = 5000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15_000;

/** RFC 2741 section 6.2.16 error codes, for messages. */
const AGENTX_ERRORS: Record<number, string> = {
  256: "openFailed", 257: "notOpen", 258: "indexWrongType", 259: "indexAlreadyAllocated", 260: "indexNoneAvailable",
  261: "indexNotAllocated", 262: "unsupportedContext", 263: "duplicateRegistration", 264: "unknownRegistration",
  265: "unknownAgentCaps", 266: "parseError", 267: "requestDenied", 268: "processingError",
};

export function parseMaster(master: string): { host: string; port: number } {
  const match = /^tcp:(?:\[([0-9a-fA-F:.]+)\]|([^:]+)):(\d+)$/.exec(master);
  if (!match) throw new Error(`agentx.master "${master}" is not tcp:HOST:PORT`);
  return { host: match[1] ?? match[2], port: Number(match[3]) };
}

/** Splits a TCP byte stream into whole AgentX PDUs (header + payload_length bytes). */
export class PduFramer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.pending.length >= HEADER_BYTES) {
      const bigEndian = (this.pending[2] & NETWORK_BYTE_ORDER) !== 0;
      const payload = bigEndian ? this.pending.readUInt32BE(16) : this.pending.readUInt32LE(16);
      if (payload > 1 << 20) throw new Error(`AgentX PDU claims ${payload} bytes of payload: not an AgentX stream`);
      const total = HEADER_BYTES + payload;
      if (this.pending.length < total) break;
      out.push(this.pending.subarray(0, total));
      this.pending = this.pending.subarray(total);
    }
    return out;
  }
}

type Subagent = any;

export class AgentxSubagent {
  private subagent: Subagent = null;
  private values: ObjectValues = {};
  private registeredNames = new Set<string>();
  private connected = false;
  private closing = false;
  private backoffMs = BACKOFF_FIRST_MS;
  private retryTimer: NodeJS.Timeout | null = null;
  private lastProblem: string | null = null;
  private everRegistered = false;
  private generation = 0;
  private reportedRegistered = false;

  constructor(
    private master: string,
    private readonly tree: OidTree,
    private readonly logger: Logger,
    /** Called when `registered` changes, so the daemon's textfile can say so without waiting a cycle. */
    private readonly onRegistrationChange: (registered: boolean) => void = () => {},
  ) {}

  /** Whether every object is registered with snmpd right now. */
  get registered(): boolean {
    return this.connected && this.registeredNames.size === this.providers().length;
  }

  start(): void {
    this.closing = false;
    this.connect();
  }

  /** Points the subagent at another master (config reload); reconnects only if it changed. */
  setMaster(master: string): void {
    if (master === this.master) return;
    this.master = master;
    this.lastProblem = null;
    this.backoffMs = BACKOFF_FIRST_MS;
    this.drop();
    this.connect();
  }

  update(values: ObjectValues): void {
    this.values = values;
    if (!this.subagent) return;
    for (const name of this.registeredNames) this.setValue(name);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const sub = this.subagent;
    if (!sub) return;
    if (this.connected) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        try {
          sub.close(() => {
            clearTimeout(timer);
            resolve();
          });
        } catch {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    this.drop();
  }

  private providers(): ObjectDef[] {
    return OBJECTS.filter((o) => o.access === "read-only");
  }

  private drop(): void {
    const sub = this.subagent;
    this.subagent = null;
    this.connected = false;
    this.registeredNames.clear();
    this.generation++;
    if (sub) {
      sub.removeAllListeners("close");
      sub.socket?.destroy();
    }
    this.reportRegistration();
  }

  private reportRegistration(): void {
    if (this.registered === this.reportedRegistered || this.closing) return;
    this.reportedRegistered = this.registered;
    this.onRegistrationChange(this.registered);
  }

  private problem(message: string): void {
    if (message === this.lastProblem) return;
    this.lastProblem = message;
    this.logger.warn({ master: this.master }, `AgentX: ${message}; retrying with backoff (the objects under ${this.tree.objects} are not served meanwhile)`);
  }

  private scheduleReconnect(): void {
    if (this.closing || this.retryTimer) return;
    this.drop();
    const delay = this.backoffMs;
    this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private connect(): void {
    if (this.closing) return;
    let target: { host: string; port: number };
    try {
      target = parseMaster(this.master);
    } catch (error) {
      this.problem((error as Error).message);
      return;
    }
    const generation = ++this.generation;
    const sub: Subagent = snmp.createSubagent({ master: target.host, masterPort: target.port, description: `edge-agent ${this.tree.base}` });
    this.subagent = sub;
    const framer = new PduFramer();
    sub.socket.removeAllListeners("data");
    sub.socket.on("data", (chunk: Buffer) => {
      let pdus: Buffer[];
      try {
        pdus = framer.push(chunk);
      } catch (error) {
        this.problem(`snmpd at ${this.master} sent something that is not AgentX (${(error as Error).message})`);
        this.scheduleReconnect();
        return;
      }
      for (const pdu of pdus) {
        try {
          sub.onMsg(pdu);
        } catch (error) {
          this.logger.debug({ error: (error as Error).message }, "AgentX: could not handle a PDU from snmpd");
        }
      }
    });
    sub.on("error", (error: NodeJS.ErrnoException) => {
      if (generation !== this.generation) return;
      this.problem(error.code === "ECONNREFUSED" ? `nothing listens at ${this.master} (is snmpd running with \`master agentx\` and \`agentXSocket ${this.master}\`?)` : `connection to snmpd at ${this.master} failed: ${error.message}`);
    });
    sub.on("close", () => {
      if (generation !== this.generation) return;
      if (this.connected && !this.closing) this.problem(`snmpd at ${this.master} closed the AgentX session`);
      this.scheduleReconnect();
    });
    sub.socket.once("connect", () => {
      if (generation !== this.generation) return;
      this.register(sub, generation).catch((error: Error) => {
        if (generation !== this.generation) return;
        this.problem(error.message);
        this.scheduleReconnect();
      });
    });
  }

  /** One AgentX request, answered or failed within REQUEST_TIMEOUT_MS, its pdu.error checked. */
  private request(send: (cb: (error: Error | null, pdu: any) => void) => void, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`snmpd did not answer the AgentX ${what} within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
      send((error, pdu) => {
        clearTimeout(timer);
        if (error) return reject(error);
        const code = pdu?.error ?? 0;
        if (code !== 0) return reject(new AgentxError(`snmpd refused the AgentX ${what}: ${AGENTX_ERRORS[code] ?? `error ${code}`}`, code));
        resolve();
      });
    });
  }

  private async register(sub: Subagent, generation: number): Promise<void> {
    await this.request((cb) => sub.open(cb), "open");
    this.connected = true;
    const refused: string[] = [];
    for (const def of this.providers()) {
      if (generation !== this.generation) return;
      const { type } = encodeValue(def, this.values[def.name] ?? defaultValue(def));
      const provider = { name: def.name, type: snmp.MibProviderType.Scalar, oid: this.tree.objectOid(def.name), scalarType: type, maxAccess: snmp.MaxAccess["read-only"] };
      try {
        // One at a time: net-snmp loses responses that arrive together.
        await this.request((cb) => sub.registerProvider(provider, cb), `registration of ${def.name} (${provider.oid})`);
      } catch (error) {
        if (!(error instanceof AgentxError)) throw error;
        refused.push(`${def.name}: ${error.message}`);
        continue;
      }
      this.registeredNames.add(def.name);
      this.setValue(def.name);
    }
    if (generation !== this.generation) return;
    this.backoffMs = BACKOFF_FIRST_MS;
    if (refused.length > 0) {
      this.logger.error({ master: this.master, refused }, `AgentX: snmpd at ${this.master} refused ${refused.length} of ${this.providers().length} objects (another subagent may own ${this.tree.objects})`);
    } else if (this.lastProblem !== null || !this.everRegistered) {
      this.logger.info({ master: this.master, subtree: this.tree.objects }, `AgentX: serving ${this.registeredNames.size} objects under ${this.tree.objects} through snmpd at ${this.master}`);
    }
    this.everRegistered = true;
    this.lastProblem = null;
    this.reportRegistration();
  }

  private setValue(name: string): void {
    const def = OBJECTS.find((o) => o.name === name)!;
    const { value } = encodeValue(def, this.values[name] ?? defaultValue(def));
    try {
      // net-snmp's AgentX encoder writes octet strings from JS strings only (a Buffer throws).
      this.subagent.getMib().setScalarValue(name, Buffer.isBuffer(value) ? value.toString("utf8") : value);
    } catch (error) {
      this.logger.debug({ object: name, error: (error as Error).message }, "AgentX: could not set a value");
    }
  }
}

class AgentxError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

function defaultValue(def: ObjectDef): string | number | boolean {
  switch (def.syntax.kind) {
    case "TruthValue":
      return false;
    case "Unsigned32":
      return 0;
    case "Enum":
      return Object.keys(def.syntax.values)[0];
    default:
      return "";
  }
}
