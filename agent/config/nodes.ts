// The kinds of node the config schema table is built from. A leaf converts one raw YAML value and
// knows its default and its JSON Schema; objects and lists hold nodes. Each node carries its
// output type, so the Config type is derived from the table (Out<typeof table>) rather than
// written a second time, and a key cannot be in one and not the other.

export type JsonSchema = { [key: string]: unknown };

/** A value a leaf refuses; the walker adds the key and the line. */
export class Invalid extends Error {}

/** Shows a refused value in an error: cut short, and only its kind for a secret. */
export type Show = (raw: unknown) => string;

export interface Leaf<T, Suffix extends string = ""> {
  kind: "leaf";
  /** A raw value, so it passes through the same conversion as user input. */
  default: unknown;
  convert: (raw: unknown, show: Show) => T;
  json: JsonSchema;
  /** Never echoed in an error (communities, keys). */
  secret?: boolean;
  /** How a string value is shown in an error (a URL without its password). */
  display?: (value: string) => string;
  /** Appended to the key in Config: a duration `timeout` becomes `timeoutMs`. */
  suffix: Suffix;
}

export interface Obj<F extends Fields = Fields, Nullable extends boolean = boolean> {
  kind: "object";
  fields: F;
  /** Absent or null gives null rather than the defaults (a v3 user nobody set). */
  nullable: Nullable;
}

export interface List<I extends Node = Node> {
  kind: "list";
  item: I;
  default: unknown[];
}

export type Node = Leaf<any, string> | Obj<any, boolean> | List<any>;
export type Fields = { [key: string]: Node };

type SuffixOf<N> = N extends Leaf<unknown, infer S> ? S : "";

/** The converted value of a node: the one place the Config type comes from. */
export type Out<N> =
  N extends Leaf<infer T, string>
    ? T
    : N extends List<infer I>
      ? Out<I>[]
      : N extends Obj<infer F, infer Nullable>
        ? ObjOut<F> | (Nullable extends true ? null : never)
        : never;

export type ObjOut<F extends Fields> = { [K in keyof F & string as `${K}${SuffixOf<F[K]>}`]: Out<F[K]> };

export const obj = <F extends Fields>(fields: F): Obj<F, false> => ({ kind: "object", fields, nullable: false });
export const nullableObj = <F extends Fields>(fields: F): Obj<F, true> => ({ kind: "object", fields, nullable: true });
export const list = <I extends Node>(item: I, def: unknown[] = []): List<I> => ({ kind: "list", item, default: def });

/** A leaf from its parts; the suffix defaults to none. */
export function leaf<T>(def: unknown, json: JsonSchema, convert: (raw: unknown, show: Show) => T, extra: { secret?: boolean; display?: (value: string) => string } = {}): Leaf<T> {
  return { kind: "leaf", default: def, json, convert, suffix: "", ...extra };
}
