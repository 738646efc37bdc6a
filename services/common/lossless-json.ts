/**
 * JSON.parse that keeps integers above 2^53 exact.
 *
 * `JSON.parse` silently rounds 18446744073709551615 (uint64 max, which kubelets report as
 * `inodesFree`) to 18446744073709552000. Before parsing, every integer literal of 16 or more digits
 * outside a string is rewritten as a string that starts with U+0000 (a character a JSON text
 * cannot carry unescaped); `readBigIntegerMarker` turns such a string back into an exact value.
 * The fast path (no 16-digit run anywhere) is a plain JSON.parse.
 */

const BIG_INTEGER_MARK = '\u0000';
const LONG_DIGIT_RUN = /\d{16}/;
// A JSON string (skipped as is) or a bare integer literal of 16+ digits not part of a float.
const STRING_OR_LONG_INTEGER = /"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![\d.eE])/g;

export function parseJsonLossless(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
  const marked = text.replace(STRING_OR_LONG_INTEGER, (token) =>
    token.charCodeAt(0) === 34 /* " */ ? token : `"\\u0000${token}"`,
  );
  return JSON.parse(marked);
}

/** The exact integer a marked string stands for, or undefined when `value` is not one. */
export function readBigIntegerMarker(value: unknown): bigint | undefined {
  if (typeof value !== 'string' || !value.startsWith(BIG_INTEGER_MARK)) return undefined;
  return BigInt(value.slice(1));
}
