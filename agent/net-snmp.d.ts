// Type declarations for the parts of the net-snmp package the agent uses (it ships none).
declare module "net-snmp" {
  export interface Varbind {
    oid: string;
    type?: number;
    value?: unknown;
  }
  export interface SessionOptions {
    port?: number;
    trapPort?: number;
    retries?: number;
    timeout?: number;
    transport?: "udp4" | "udp6";
    version?: number;
    idBitsSize?: 16 | 32;
    engineID?: string | Buffer;
    backwardsGetNexts?: boolean;
    [key: string]: unknown;
  }
  export interface User {
    name: string;
    level: number;
    authProtocol?: number;
    authKey?: string;
    privProtocol?: number;
    privKey?: string;
  }
  export interface Session {
    get(oids: string[], callback: (error: Error | null, varbinds: Varbind[]) => void): void;
    getNext(oids: string[], callback: (error: Error | null, varbinds: Varbind[]) => void): void;
    walk(oid: string, feed: (varbinds: Varbind[]) => void, done: (error: Error | null) => void): void;
    trap(typeOrOid: string | number, varbinds: Varbind[], options: { upTime?: number } | undefined, callback: (error: Error | null) => void): void;
    trap(typeOrOid: string | number, varbinds: Varbind[], callback: (error: Error | null) => void): void;
    inform(typeOrOid: string | number, varbinds: Varbind[], options: { upTime?: number } | undefined, callback: (error: Error | null, varbinds?: Varbind[]) => void): void;
    inform(typeOrOid: string | number, varbinds: Varbind[], callback: (error: Error | null, varbinds?: Varbind[]) => void): void;
    close(): void;
    on(event: "error" | "close", listener: (...args: any[]) => void): this;
    [key: string]: any;
  }
  export function createSession(target: string, community: string, options?: SessionOptions): Session;
  export function createV3Session(target: string, user: User, options?: SessionOptions): Session;
  export function createReceiver(options: Record<string, unknown>, callback: (error: any, notification: any) => void): any;
  export function createSubagent(options: Record<string, unknown>): any;
  export function createAgent(options: Record<string, unknown>, callback: (error: any, data: any) => void): any;
  export function isVarbindError(varbind: Varbind): boolean;
  export function varbindError(varbind: Varbind): string;
  export const Version1: number;
  export const Version2c: number;
  export const Version3: number;
  export const ObjectType: Record<string, number>;
  export const PduType: Record<string, number>;
  export const TrapType: Record<string, number>;
  export const SecurityLevel: { noAuthNoPriv: number; authNoPriv: number; authPriv: number };
  export const AuthProtocols: Record<string, number>;
  export const PrivProtocols: Record<string, number>;
  export const MibProviderType: Record<string, number>;
  export const MaxAccess: Record<string, number>;
  export const AgentXPduType: Record<string, number>;
  export const ErrorStatus: Record<string, number>;
  export class RequestTimedOutError extends Error {}
  export class RequestFailedError extends Error {
    status: number;
  }
  export class ResponseInvalidError extends Error {}
  export class RequestInvalidError extends Error {}
  const snmp: any;
  export default snmp;
}
