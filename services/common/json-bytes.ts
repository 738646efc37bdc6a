/**
 * JSON written straight into bytes: strings, numbers, null and punctuation appended to one
 * growing buffer, the same bytes (UTF-8) that JSON.stringify writes for the same values. The
 * metric sets' stored form (batch-codec) is written with it, so that encoding a node's sets
 * builds neither the arrays JSON.stringify would read nor the string it returns, nor the copy of
 * that string packing compresses: only the bytes.
 *
 * Not safe for interleaved use: a writer is filled and read (view) with no await in between.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const ZERO = 0x30;
/** The longest safe integer, with its sign: -9007199254740991. */
const MAX_INTEGER_BYTES = 17;
/** Integers are written in parts below this (10^8, a small integer for V8). */
const LOW_PART = 100_000_000;
const LOW_DIGITS = 8;

export class JsonBytesWriter {
  private bytes: Buffer;
  private length = 0;

  constructor(initialBytes = 64 * 1024) {
    this.bytes = Buffer.allocUnsafe(initialBytes);
  }

  /** Empties the writer; its buffer is kept for the next use. */
  reset(): this {
    this.length = 0;
    return this;
  }

  /** The bytes written since the last reset: a view of the writer's buffer, valid until its next write or reset. */
  view(): Buffer {
    return this.bytes.subarray(0, this.length);
  }

  /** One ASCII character (punctuation: `[`, `]`, `,`). */
  char(code: number): void {
    if (this.length === this.bytes.length) this.grow(1);
    this.bytes[this.length++] = code;
  }

  nullValue(): void {
    this.ascii('null');
  }

  /** A string as JSON.stringify writes it: ASCII without `"`, `\` or control characters byte by byte, anything else through JSON.stringify. */
  string(text: string): void {
    const count = text.length;
    if (this.length + count + 2 > this.bytes.length) this.grow(count + 2);
    const bytes = this.bytes;
    let at = this.length;
    bytes[at++] = QUOTE;
    for (let i = 0; i < count; i++) {
      const code = text.charCodeAt(i);
      if (code < 0x20 || code >= 0x80 || code === QUOTE || code === BACKSLASH) return this.escaped(text);
      bytes[at++] = code;
    }
    bytes[at++] = QUOTE;
    this.length = at;
  }

  /** A number as JSON.stringify writes it (a non-finite one as null); a safe integer digit by digit. */
  number(value: number): void {
    if (!Number.isSafeInteger(value)) return this.ascii(JSON.stringify(value));
    if (this.length + MAX_INTEGER_BYTES > this.bytes.length) this.grow(MAX_INTEGER_BYTES);
    if (value < 0) {
      this.bytes[this.length++] = MINUS;
      value = -value;
    }
    // In 31-bit parts, so that the digits come from small-integer arithmetic: a safe integer is
    // at most 9007199254740991, high part 90071992 and low part 54740991.
    if (value < LOW_PART) return this.digits(value, 0);
    const high = Math.floor(value / LOW_PART);
    this.digits(high, 0);
    this.digits(value - high * LOW_PART, LOW_DIGITS);
  }

  /** The digits of `value` (0 <= value < LOW_PART), zero-padded to `width` (the low part of a larger integer). */
  private digits(value: number, width: number): void {
    let count = 1;
    for (let power = 10; power <= value; power *= 10) count++;
    if (count < width) count = width;
    const bytes = this.bytes;
    const end = this.length + count;
    let rest = value | 0;
    for (let at = end - 1; at >= this.length; at--) {
      const next = (rest / 10) | 0;
      bytes[at] = ZERO + rest - next * 10;
      rest = next;
    }
    this.length = end;
  }

  /** Text known to be ASCII with nothing to escape (a number's JSON, `null`), as it is. */
  private ascii(text: string): void {
    if (this.length + text.length > this.bytes.length) this.grow(text.length);
    for (let i = 0; i < text.length; i++) this.bytes[this.length++] = text.charCodeAt(i);
  }

  private escaped(text: string): void {
    const json = JSON.stringify(text);
    const most = Buffer.byteLength(json, 'utf8');
    if (this.length + most > this.bytes.length) this.grow(most);
    this.length += this.bytes.write(json, this.length, 'utf8');
  }

  private grow(atLeast: number): void {
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + atLeast));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }
}
