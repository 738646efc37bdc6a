/**
 * How a window's processed metric sets are staged in Redis until every sink has written them:
 * `window:<W>:sets` (set key -> set JSON, exactly what the short-term store keeps) and
 * `window:<W>:long` (pod or node key -> the long-term values of its sets; batch-codec.ts). The
 * processor stages a node's sets as it processes them and the roll-ups when it finalizes; the
 * short-term store serves both hashes where they are, and the other sinks read the sets back in
 * chunks.
 *
 * A retried node job writes the same fields again, so nothing is counted twice.
 */
import type { ChainableCommander } from 'ioredis';
import { encodeLongTermFields, encodeMetricSet } from './batch-codec.js';
import type { RedisKeys } from './keys.js';
import type { MetricSet } from './metric-set.js';

/** Queues the HSETs staging `sets` for window W on `commands` (a pipeline or MULTI). */
export function stageMetricSets(commands: ChainableCommander, keys: RedisKeys, windowStartMs: number, sets: readonly MetricSet[], ttlMs: number): void {
  if (sets.length === 0) return;
  const encoded: string[] = [];
  for (const set of sets) encoded.push(set.key, encodeMetricSet(set));
  const longTerm = encodeLongTermFields(sets);
  commands.hset(keys.windowSets(windowStartMs), ...encoded).pexpire(keys.windowSets(windowStartMs), ttlMs);
  if (longTerm.length > 0) commands.hset(keys.windowLong(windowStartMs), ...longTerm).pexpire(keys.windowLong(windowStartMs), ttlMs);
}
