// HuJSON (JWCC: JSON with `//` and `/* */` comments and trailing commas) into a tree that keeps
// where every value starts, so a policy entry can be named by its line and a bad file by the
// line and column of its first error. Strict everywhere else: whatever JSON rejects (single
// quotes, bare words, missing commas, control characters in strings) is an error here too.

export interface Position {
  /** 1-based line. */
  line: number;
  /** 1-based column, in UTF-16 code units (a tab counts as one). */
  column: number;
}

interface Node {
  pos: Position;
}

export interface HuMember {
  key: string;
  keyPos: Position;
  value: HuValue;
}

export type HuValue =
  | (Node & { kind: "object"; members: HuMember[] })
  | (Node & { kind: "array"; items: HuValue[] })
  | (Node & { kind: "string"; value: string })
  | (Node & { kind: "number"; value: number })
  | (Node & { kind: "boolean"; value: boolean })
  | (Node & { kind: "null" });

export type HujsonErrorCode =
  | "unexpected-character"
  | "unexpected-end"
  | "unterminated-string"
  | "unterminated-comment"
  | "bad-escape"
  | "control-character"
  | "bad-number"
  | "trailing-content"
  | "too-deep";

export class HujsonError extends Error {
  constructor(
    readonly code: HujsonErrorCode,
    readonly detail: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line} column ${column}: ${detail}`);
    this.name = "HujsonError";
  }
}

/** Deeper nesting than this is not a policy; the limit keeps hostile input off the stack's end. */
const MAX_DEPTH = 512;

class Reader {
  private i = 0;
  private line = 1;
  private lineStart = 0;

  constructor(private readonly text: string) {
    if (text.charCodeAt(0) === 0xfeff) this.i = 1;
  }

  pos(at = this.i): Position {
    return { line: this.line, column: at - this.lineStart + 1 };
  }

  fail(code: HujsonErrorCode, detail: string, at?: Position): never {
    const p = at ?? this.pos();
    throw new HujsonError(code, detail, p.line, p.column);
  }

  private describe(): string {
    if (this.i >= this.text.length) return "the end of the file";
    return JSON.stringify(this.text[this.i]);
  }

  private advance(): void {
    if (this.text[this.i] === "\n") {
      this.line++;
      this.lineStart = this.i + 1;
    }
    this.i++;
  }

  /** Skips whitespace and comments. */
  skip(): void {
    for (;;) {
      const c = this.text[this.i];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") {
        this.advance();
      } else if (c === "/" && this.text[this.i + 1] === "/") {
        while (this.i < this.text.length && this.text[this.i] !== "\n") this.i++;
      } else if (c === "/" && this.text[this.i + 1] === "*") {
        const start = this.pos();
        this.i += 2;
        while (this.i < this.text.length && !(this.text[this.i] === "*" && this.text[this.i + 1] === "/")) this.advance();
        if (this.i >= this.text.length) this.fail("unterminated-comment", "a /* comment is never closed", start);
        this.i += 2;
      } else {
        return;
      }
    }
  }

  atEnd(): boolean {
    return this.i >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.i];
  }

  expect(c: string, what: string): void {
    if (this.text[this.i] !== c) this.fail(this.atEnd() ? "unexpected-end" : "unexpected-character", `expected ${what}, found ${this.describe()}`);
    this.i++;
  }

  value(depth: number): HuValue {
    this.skip();
    const pos = this.pos();
    if (depth > MAX_DEPTH) this.fail("too-deep", `nested deeper than ${MAX_DEPTH} levels`);
    const c = this.text[this.i];
    if (c === "{") return this.object(pos, depth);
    if (c === "[") return this.array(pos, depth);
    if (c === '"') return { kind: "string", pos, value: this.string() };
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return { kind: "number", pos, value: this.number() };
    for (const [word, node] of [["true", { kind: "boolean", pos, value: true }], ["false", { kind: "boolean", pos, value: false }], ["null", { kind: "null", pos }]] as const) {
      if (this.text.startsWith(word, this.i)) {
        this.i += word.length;
        return node;
      }
    }
    return this.fail(this.atEnd() ? "unexpected-end" : "unexpected-character", `expected a value, found ${this.describe()}`);
  }

  private object(pos: Position, depth: number): HuValue {
    this.i++;
    const members: HuMember[] = [];
    for (;;) {
      this.skip();
      if (this.peek() === "}") {
        this.i++;
        return { kind: "object", pos, members };
      }
      if (this.peek() !== '"') this.fail(this.atEnd() ? "unexpected-end" : "unexpected-character", `expected a quoted key or }, found ${this.describe()}`);
      const keyPos = this.pos();
      const key = this.string();
      this.skip();
      this.expect(":", `: after the key "${key}"`);
      members.push({ key, keyPos, value: this.value(depth + 1) });
      this.skip();
      if (this.peek() === ",") this.i++;
      else if (this.peek() !== "}") this.fail(this.atEnd() ? "unexpected-end" : "unexpected-character", `expected , or } after the value of "${key}", found ${this.describe()}`);
    }
  }

  private array(pos: Position, depth: number): HuValue {
    this.i++;
    const items: HuValue[] = [];
    for (;;) {
      this.skip();
      if (this.peek() === "]") {
        this.i++;
        return { kind: "array", pos, items };
      }
      items.push(this.value(depth + 1));
      this.skip();
      if (this.peek() === ",") this.i++;
      else if (this.peek() !== "]") this.fail(this.atEnd() ? "unexpected-end" : "unexpected-character", `expected , or ] in a list, found ${this.describe()}`);
    }
  }

  private string(): string {
    const start = this.pos();
    this.i++;
    let out = "";
    for (;;) {
      if (this.i >= this.text.length) this.fail("unterminated-string", "a string is never closed", start);
      const c = this.text[this.i];
      const code = c.charCodeAt(0);
      if (c === '"') {
        this.i++;
        return out;
      }
      if (code < 0x20) this.fail(code === 0x0a ? "unterminated-string" : "control-character", code === 0x0a ? "a string runs past the end of its line" : `control character U+${code.toString(16).padStart(4, "0")} in a string (escape it)`);
      if (c !== "\\") {
        // Copy the run of plain characters in one slice.
        let j = this.i + 1;
        for (let k = this.text.charCodeAt(j); j < this.text.length && k !== 0x22 && k !== 0x5c && k >= 0x20; k = this.text.charCodeAt(++j));
        out += this.text.slice(this.i, j);
        this.i = j;
        continue;
      }
      const e = this.text[this.i + 1];
      const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (e !== undefined && e in simple) {
        out += simple[e];
        this.i += 2;
      } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.i + 2, this.i + 6))) {
        out += String.fromCharCode(parseInt(this.text.slice(this.i + 2, this.i + 6), 16));
        this.i += 6;
      } else {
        this.fail("bad-escape", `bad escape \\${e ?? ""} in a string`);
      }
    }
  }

  private number(): number {
    const match = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(this.text.slice(this.i, this.i + 64));
    const next = match ? this.text[this.i + match[0].length] : undefined;
    if (!match || (next !== undefined && /[0-9A-Za-z.+-]/.test(next))) this.fail("bad-number", "not a JSON number");
    this.i += match[0].length;
    return Number(match[0]);
  }
}

/** Parses a whole HuJSON document; throws HujsonError naming the line and column. */
export function parseHujson(text: string): HuValue {
  const reader = new Reader(text);
  const value = reader.value(0);
  reader.skip();
  if (!reader.atEnd()) reader.fail("trailing-content", "more after the end of the document");
  return value;
}

/** The plain JSON value of a node (comments and positions dropped). */
export function plain(node: HuValue): unknown {
  switch (node.kind) {
    case "object": {
      // As JSON.parse does: "__proto__" becomes an own key, not the object's prototype.
      const out: Record<string, unknown> = {};
      for (const m of node.members) Object.defineProperty(out, m.key, { value: plain(m.value), enumerable: true, writable: true, configurable: true });
      return out;
    }
    case "array":
      return node.items.map(plain);
    case "null":
      return null;
    default:
      return node.value;
  }
}
