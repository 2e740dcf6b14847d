// `receiver.listen` entries ("udp6:[::]:162", "udp:0.0.0.0:162") -> the socket each one binds.
// Pure, so a typo is caught at config load and in tests without opening sockets.
import { isIP } from "node:net";

export interface ListenAddress {
  transport: "udp4" | "udp6";
  address: string;
  port: number;
  /** The entry as written, for messages. */
  text: string;
}

export function parseListenAddress(text: string): ListenAddress {
  const match = /^(udp|udp4|udp6):(?:\[([^\]]*)\]|([^:\[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a listen address (expected udp6:[::]:162 or udp:0.0.0.0:162)`);
  const [, scheme, bracketed, plain, portText] = match;
  const address = bracketed ?? plain;
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new Error(`"${text}": port ${port} is out of range (1-65535)`);
  const family = isIP(address);
  if (family === 0) throw new Error(`"${text}": "${address}" is not an IP address (listen on an address, not a name)`);
  if (bracketed !== undefined && family !== 6) throw new Error(`"${text}": brackets are for IPv6 addresses only`);
  const transport = family === 6 ? "udp6" : "udp4";
  if (scheme === "udp6" && transport !== "udp6") throw new Error(`"${text}": udp6 needs an IPv6 address like [::]`);
  if (scheme === "udp4" && transport !== "udp4") throw new Error(`"${text}": udp4 needs an IPv4 address like 0.0.0.0`);
  return { transport, address, port, text };
}

/** Host and port of an HTTP listen address like "[::]:9163" or "127.0.0.1:9163". */
export function parseHostPort(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:\[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (!match || Number(match[3]) > 65535) throw new Error(`"${text}" is not host:port (expected [::]:9163 or 127.0.0.1:9163)`);
  return { host: match[1] ?? (match[2] || "::"), port: Number(match[3]) };
}
