import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QUEUE, redisKeys, type RedisKeyKind } from '../../services/common/keys.js';

describe('Redis keys', () => {
  it('tells every builder\'s key apart by what it holds, for the bench\'s memory report', () => {
    const keys = redisKeys('pm');
    const windowStartMs = 1_764_547_200_000;
    const expected: [string, RedisKeyKind][] = [
      [keys.windowSets(windowStartMs), 'window sets'],
      [keys.windowLong(windowStartMs), 'long-term values'],
      ...[keys.windowManifest, keys.windowOutcomes, keys.windowPartials, keys.windowSummary, keys.windowExports, keys.windowKept].map((build): [string, RedisKeyKind] => [build(windowStartMs), 'window bookkeeping']),
      // A node may be named like a window key's suffix: its keys are still its own.
      [keys.rateState('node:sets'), 'rate samples'],
      [keys.podsOnNode('node:long'), 'metadata'],
      [keys.nodeMeta, 'metadata'],
      [keys.namespaceMeta, 'metadata'],
      [`${keys.bullPrefix}:${QUEUE.scrape(0)}:wait`, 'queues'],
      [keys.scrapers, 'other'],
      [keys.storeSummaries, 'other'],
      [keys.schedulerLease, 'other'],
    ];
    assert.deepEqual(expected.map(([key]) => keys.kindOf(key)), expected.map(([, kind]) => kind));
    assert.ok(expected.every(([key]) => key.startsWith(keys.allPattern.slice(0, -1))), 'every key matches the SCAN pattern');
    assert.equal(redisKeys('other').kindOf(keys.windowSets(windowStartMs)), 'other', 'another prefix\'s keys are not this one\'s');
  });
});
