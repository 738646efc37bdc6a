/**
 * The short-term store (Heapster's in-memory `metric` sink, kept in Redis so that any API replica
 * serves the same data). For each window:
 *   store:window:<W>  every metric set by key, kept `windowRetentionMs` (Heapster: 140 s);
 *   store:long:<W>    `cpu/usage_rate|memory/usage` by set key, kept `longRetentionMs` (15 min);
 *   store:windows     the window index, store:summaries what became of each window.
 * Every key expires by itself, so memory is bounded by retention x cluster size.
 */
import type { Redis } from 'ioredis';
import { encodeMetricSet } from '../../common/batch-codec.js';
import type { RedisKeys } from '../../common/keys.js';
import { jsonSafeValue } from '../../common/metric-set.js';
import type { Sink, WindowBatch } from '../sink.js';

/** The metrics kept for the long retention, in the order they are joined in `store:long`. */
export const LONG_TERM_METRICS = ['cpu/usage_rate', 'memory/usage'] as const;

export interface StoreRetention {
  windowRetentionMs: number;
  longRetentionMs: number;
}

export class StoreSink implements Sink {
  readonly name = 'store';

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly retention: StoreRetention,
  ) {}

  async write(window: WindowBatch): Promise<void> {
    const { windowStartMs } = window.summary;
    const full = this.keys.storeWindow(windowStartMs);
    const long = this.keys.storeLong(windowStartMs);
    for await (const sets of window.chunks()) {
      const fullFields: string[] = [];
      const longFields: string[] = [];
      for (const set of sets) {
        fullFields.push(set.key, encodeMetricSet(set));
        const kept = LONG_TERM_METRICS.map((m) => (set.values[m] === undefined ? '' : String(jsonSafeValue(set.values[m]!))));
        if (kept.some((v) => v !== '')) longFields.push(set.key, kept.join('|'));
      }
      const pipeline = this.redis.pipeline();
      if (fullFields.length > 0) pipeline.hset(full, ...fullFields);
      if (longFields.length > 0) pipeline.hset(long, ...longFields);
      await pipeline.exec();
    }
    const oldest = windowStartMs - this.retention.longRetentionMs;
    const expired = await this.redis.zrangebyscore(this.keys.storeWindows, '-inf', `(${oldest}`);
    const pipeline = this.redis
      .multi()
      .pexpire(full, this.retention.windowRetentionMs)
      .pexpire(long, this.retention.longRetentionMs)
      .hset(this.keys.storeSummaries, String(windowStartMs), JSON.stringify(window.summary))
      .zadd(this.keys.storeWindows, windowStartMs, String(windowStartMs));
    if (expired.length > 0) pipeline.zrem(this.keys.storeWindows, ...expired).hdel(this.keys.storeSummaries, ...expired);
    await pipeline.exec();
  }

  async close(): Promise<void> {}
}
