/**
 * The short-term store (Heapster's in-memory `metric` sink, kept in Redis so that any API replica
 * serves the same data). For each window:
 *   store:window:<W>  every metric set by key, kept `windowRetentionMs` (Heapster: 140 s);
 *   store:long:<W>    `cpu/usage_rate|memory/usage` by set key, kept `longRetentionMs` (15 min);
 *   store:windows     the window index, store:summaries what became of each window.
 * Every key expires by itself, so memory is bounded by retention x cluster size.
 *
 * The processor stages each set already in the store's form (window:<W>:sets and :long, see
 * keys.ts), so writing a window is two server-side COPYs: the exporter decodes and encodes
 * nothing for the store (decoding and re-encoding every set cost ~2 ms per node-scrape).
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../common/keys.js';
import type { Sink, WindowBatch } from '../sink.js';

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
    const oldest = windowStartMs - this.retention.longRetentionMs;
    const expired = await this.redis.zrangebyscore(this.keys.storeWindows, '-inf', `(${oldest}`);
    const pipeline = this.redis
      .multi()
      .copy(this.keys.windowSets(windowStartMs), full, 'REPLACE')
      .copy(this.keys.windowLong(windowStartMs), long, 'REPLACE')
      .pexpire(full, this.retention.windowRetentionMs)
      .pexpire(long, this.retention.longRetentionMs)
      .hset(this.keys.storeSummaries, String(windowStartMs), JSON.stringify(window.summary))
      .zadd(this.keys.storeWindows, windowStartMs, String(windowStartMs));
    if (expired.length > 0) pipeline.zrem(this.keys.storeWindows, ...expired).hdel(this.keys.storeSummaries, ...expired);
    await pipeline.exec();
  }

  async close(): Promise<void> {}
}
