/**
 * The short-term store (Heapster's in-memory `metric` sink, kept in Redis so that any API replica
 * serves the same data). The store keeps a window where the processor staged it:
 *   window:<W>:sets   every metric set by key, kept `windowRetentionMs` (Heapster: 140 s);
 *   window:<W>:long   `cpu/usage_rate|memory/usage` of each set, one field per pod or node,
 *                     kept `longRetentionMs` (15 min);
 *   store:windows     the window index, store:summaries what became of each window.
 * Writing a window lists it and records until when the store keeps its two hashes
 * (`window:<W>:kept`, on Redis's clock); when the last sink has written the window, the exporter
 * sets their expiry to that time instead of deleting them (exporter.ts). Nothing is copied: copying each window
 * into store keys of its own held a second copy of every window in memory (and in the
 * append-only file's rewrites), and each COPY held Redis ~0.7 s at 10,000 nodes.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../common/keys.js';
import { execOrThrow } from '../../common/redis.js';
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
    const kept = this.keys.windowKept(windowStartMs);
    // Redis's clock, not this process's: the last sink's release compares these times with Redis's
    // TIME, so a skewed exporter clock would keep a window longer or shorter by the skew.
    const [seconds, microseconds] = await this.redis.time();
    const writtenAtMs = Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000);
    const oldest = windowStartMs - this.retention.longRetentionMs;
    const expired = await this.redis.zrangebyscore(this.keys.storeWindows, '-inf', `(${oldest}`);
    const commands = this.redis
      .multi()
      .hset(kept, 'sets', String(writtenAtMs + this.retention.windowRetentionMs), 'long', String(writtenAtMs + this.retention.longRetentionMs))
      .pexpire(kept, this.retention.longRetentionMs)
      .hset(this.keys.storeSummaries, String(windowStartMs), JSON.stringify(window.summary))
      .zadd(this.keys.storeWindows, windowStartMs, String(windowStartMs));
    if (expired.length > 0) commands.zrem(this.keys.storeWindows, ...expired).hdel(this.keys.storeSummaries, ...expired);
    await execOrThrow(commands);
  }

  async close(): Promise<void> {}
}
