import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonBytesWriter } from '../../services/common/json-bytes.js';

/** The values written as a JSON array by `writer`, one by one. */
function written(writer: JsonBytesWriter, values: readonly (number | string | null)[]): string {
  writer.reset().char(0x5b);
  values.forEach((value, i) => {
    if (i > 0) writer.char(0x2c);
    if (value === null) writer.nullValue();
    else if (typeof value === 'number') writer.number(value);
    else writer.string(value);
  });
  writer.char(0x5d);
  return writer.view().toString('utf8');
}

describe('JSON written into bytes', () => {
  it('writes numbers as JSON.stringify does: integers digit by digit, others (and non-finite ones as null) through it', () => {
    const numbers = [0, -0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, -1, -10, -123456, 1_700_000_000_123, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, -(2 ** 53), 1e21, 0.5, -0.25, 1 / 3, 1e-7, 123.456, NaN, Infinity, -Infinity];
    assert.equal(written(new JsonBytesWriter(), numbers), JSON.stringify(numbers));
  });

  it('writes strings as JSON.stringify does: quotes, backslashes and control characters escaped, any Unicode as UTF-8, a lone surrogate escaped', () => {
    const strings = ['', 'abc', 'namespace:kube-system/pod:coredns-1/container:coredns', 'a"b', 'a\\b', 'line\nbreak\ttab\u0001\u001f', '\u007f', 'café', '日本語', '😀 emoji', '\u2028\u2029', 'lone \ud800 surrogate', 'end \udfff'];
    const text = written(new JsonBytesWriter(), strings);
    assert.equal(text, JSON.stringify(strings));
    assert.deepEqual(JSON.parse(text), strings);
  });

  it('grows its buffer as it fills, keeping what it wrote, and is reused after a reset', () => {
    const writer = new JsonBytesWriter(4);
    const values = ['x'.repeat(10_000), ...Array.from({ length: 2_000 }, (_, i) => i * 7919), 'é'.repeat(3_000), null];
    assert.equal(written(writer, values), JSON.stringify(values));
    assert.equal(written(writer, [1, 'a']), '[1,"a"]', 'a reset writer starts empty');
  });
});
