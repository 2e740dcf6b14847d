// JSON text written straight into a growing Buffer, for files of a hundred thousand records
// (receiver.state): building each record as strings made several short-lived strings per value,
// and on a receiver whose heap holds a large fleet, collecting them cost more than the encoding.
// Plain ASCII strings are copied a character at a time; anything else goes through
// JSON.stringify, so the text is exactly what JSON.stringify would write.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class JsonBytes {
  private buf = Buffer.allocUnsafe(1 << 18);
  private pos = 0;

  get length(): number {
    return this.pos;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  /** One ASCII character, by code. */
  byte(code: number): void {
    this.room(1);
    this.buf[this.pos++] = code;
  }

  /** Text that is already JSON and ASCII (punctuation, literals, names known in advance). */
  ascii(text: string): void {
    this.room(text.length);
    for (let i = 0; i < text.length; i++) this.buf[this.pos++] = text.charCodeAt(i);
  }

  /** A number as JSON writes it (null when it is not finite). */
  number(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) {
      this.ascii(Number.isFinite(n) ? String(n) : "null");
      return;
    }
    let digits = 1;
    for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    this.room(digits);
    let at = this.pos + digits;
    this.pos = at;
    do {
      this.buf[--at] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
  }

  /** A string literal. */
  string(text: string): void {
    this.room(text.length + 2);
    const start = this.pos;
    this.buf[this.pos++] = QUOTE;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) {
        // Escapes, or UTF-8 of more than one byte per character: JSON.stringify's text, encoded.
        this.pos = start;
        const literal = JSON.stringify(text);
        this.room(Buffer.byteLength(literal));
        this.pos += this.buf.write(literal, this.pos, "utf8");
        return;
      }
      this.buf[this.pos++] = c;
    }
    this.buf[this.pos++] = QUOTE;
  }

  /**
   * The bytes written since the last take, and a fresh start. Not a copy (a save would otherwise
   * allocate the whole file again, a piece at a time): it is overwritten by the next write, so the
   * caller writes it out, and waits for that, before writing anything else.
   */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.pos = 0;
    return out;
  }
}
