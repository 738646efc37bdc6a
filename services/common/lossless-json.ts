/**
 * JSON.parse that keeps integers above 2^53 exact.
 *
 * `JSON.parse` silently rounds 18446744073709551615 (uint64 max, which kubelets report as
 * `inodesFree`) to 18446744073709552000. Before parsing, every integer literal of 16 or more digits
 * outside a string is rewritten as a string that starts with U+0000 (a character a JSON text
 * cannot carry unescaped); `readBigIntegerMarker` turns such a string back into an exact value.
 *
 * Cost: a summary holds a handful of such literals (node cpu counters, inodesFree) among ~60 KB.
 * Only the digit runs are found by a regular expression; whether one stands inside a string is
 * decided by walking the quotes before it with indexOf, once over the text. Everything else is
 * one native JSON.parse. (A whole-text tokenizing regex cost 2.5x the parse itself.)
 *
 * Cheaper still, `LongIntegerLiterals` lets a reader parse with plain JSON.parse and recover the
 * exact digits of the few numbers past 2^53 it meets; it needs `parseJsonLossless` only when two
 * different literals in the text round to the same double.
 */

const BIG_INTEGER_MARK = '\u0000';
const LONG_DIGIT_RUN = /\d{16,}/g;
const QUOTE = 34;
const BACKSLASH = 92;

/** True when the character before a number literal can precede one (`:`, `,`, `[`, whitespace or a minus sign). */
function canPrecedeNumber(code: number): boolean {
  return code === 58 || code === 44 || code === 91 || code === 32 || code === 10 || code === 13 || code === 9 || code === 45;
}

/** True when the character after a digit run ends an integer literal (not `.`, `e`, `E`). */
function endsInteger(code: number): boolean {
  return Number.isNaN(code) || !(code === 46 || code === 101 || code === 69);
}

export function parseJsonLossless(text: string): unknown {
  LONG_DIGIT_RUN.lastIndex = 0;
  let match = LONG_DIGIT_RUN.exec(text);
  if (match === null) return JSON.parse(text);
  const pieces: string[] = [];
  let copiedUpTo = 0;
  // String state at `scannedUpTo`: walk quotes forward only, so the whole text is walked once.
  let scannedUpTo = 0;
  let inString = false;
  for (; match !== null; match = LONG_DIGIT_RUN.exec(text)) {
    const start = match.index;
    for (let quote = text.indexOf('"', scannedUpTo); quote !== -1 && quote < start; quote = text.indexOf('"', quote + 1)) {
      let backslashes = 0;
      while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
      if (backslashes % 2 === 0) inString = !inString;
      scannedUpTo = quote + 1;
    }
    scannedUpTo = Math.max(scannedUpTo, start);
    if (inString) continue;
    const literalStart = text.charCodeAt(start - 1) === 45 /* - */ ? start - 1 : start;
    const end = start + match[0].length;
    if (!canPrecedeNumber(text.charCodeAt(literalStart - 1)) || !endsInteger(text.charCodeAt(end))) continue;
    pieces.push(text.slice(copiedUpTo, literalStart), `"\\u0000${text.slice(literalStart, end)}"`);
    copiedUpTo = end;
  }
  if (pieces.length === 0) return JSON.parse(text);
  pieces.push(text.slice(copiedUpTo));
  return JSON.parse(pieces.join(''));
}

/** The exact integer a marked string stands for, or undefined when `value` is not one. */
export function readBigIntegerMarker(value: unknown): bigint | undefined {
  if (typeof value !== 'string' || !value.startsWith(BIG_INTEGER_MARK)) return undefined;
  return BigInt(value.slice(1));
}

/** Two different literals in the text round to this double: the caller must use `parseJsonLossless`. */
export class AmbiguousLongInteger extends Error {
  constructor(value: number) {
    super(`two integer literals round to ${value}`);
    this.name = 'AmbiguousLongInteger';
  }
}

const isDigit = (code: number): boolean => code >= 48 && code <= 57;
/** Leading digits searched for: long enough to be rare in a summary, short enough to survive rounding. */
const PREFIX_DIGITS = 12;

/**
 * The exact literals behind doubles that plain JSON.parse produced from `text`.
 *
 * A literal L that JSON.parse rounded to the double v lies within half an ulp of v, so its leading
 * digits are those of v - ulp/2 or of v + ulp/2 (two prefixes only where a decimal carry falls in
 * between). Each prefix is found with indexOf and widened to its whole digit run; a run is a
 * candidate when Number(run) === v. A run inside a string can only add a candidate, never hide one,
 * so strings need no tracking; two different candidates throw AmbiguousLongInteger.
 */
export class LongIntegerLiterals {
  constructor(private readonly text: string) {}

  /** The exact integer that `value` (an integer past 2^53 from JSON.parse of the text) was written as. */
  exact(value: number): bigint {
    const { text } = this;
    const magnitude = BigInt(Math.abs(value));
    const halfUlp = 1n << BigInt(Math.max(0, magnitude.toString(2).length - 54));
    const prefixes = new Set([(magnitude - halfUlp).toString().slice(0, PREFIX_DIGITS), (magnitude + halfUlp).toString().slice(0, PREFIX_DIGITS)]);
    let found: string | undefined;
    for (const prefix of prefixes) {
      for (let at = text.indexOf(prefix); at !== -1; at = text.indexOf(prefix, at + prefix.length)) {
        let start = at;
        while (isDigit(text.charCodeAt(start - 1))) start--;
        if (text.charCodeAt(start - 1) === 45 /* - */) start--;
        let end = at + prefix.length;
        while (isDigit(text.charCodeAt(end))) end++;
        const literal = text.slice(start, end);
        if (Number(literal) !== value) continue;
        if (found !== undefined && found !== literal) throw new AmbiguousLongInteger(value);
        found = literal;
      }
    }
    // Not written as a digit run (e.g. 1.8e19): the double is all the text says.
    return found === undefined ? BigInt(value) : BigInt(found);
  }
}
