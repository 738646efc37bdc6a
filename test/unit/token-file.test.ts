import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TokenFile } from '../../services/common/token-file.js';
import { scratchDir } from '../helpers.js';

describe('a token file, read again as it rotates', () => {
  it('is read again once the interval has passed; until then the token read is kept', () => {
    const path = join(scratchDir('token'), 'token');
    let nowMs = 0;
    const tokens = new TokenFile(path, 60_000, () => nowMs);
    writeFileSync(path, 'first\n');
    assert.equal(tokens.current(), 'first', 'trimmed');
    writeFileSync(path, 'second');
    nowMs = 59_999;
    assert.equal(tokens.current(), 'first', 'within the interval');
    nowMs = 60_000;
    assert.equal(tokens.current(), 'second', 'the rotated token');
  });

  it('keeps the last token while the file cannot be read, and fails if it never could', () => {
    const path = join(scratchDir('token'), 'token');
    let nowMs = 0;
    const tokens = new TokenFile(path, 1000, () => nowMs);
    assert.throws(() => tokens.current(), /ENOENT/);
    writeFileSync(path, 'first');
    assert.equal(tokens.current(), 'first');
    rmSync(path);
    nowMs = 5000;
    assert.equal(tokens.current(), 'first', 'the file is being replaced');
    writeFileSync(path, 'second');
    nowMs = 5999;
    assert.equal(tokens.current(), 'first', 'the failed read counts as a read: the next is an interval later');
    nowMs = 6000;
    assert.equal(tokens.current(), 'second');
  });
});
