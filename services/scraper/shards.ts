/**
 * Which scrape shards (keys.ts: SCRAPE_SHARDS queues, a node always in the same one) each scraper
 * works. Every scraper renews its id in `P:scrapers` (a sorted set by Redis's clock) each
 * heartbeat, drops ids silent for longer than `expireMs`, and works the shards of its rank among
 * the ids it sees: shard k goes to the scraper of rank k mod (scrapers). So each node is scraped by
 * the same scraper window after window, and a scraper keeps connections to its share of the
 * kubelets only.
 *
 * While scrapers come and go, two may work one shard for a heartbeat (harmless: BullMQ gives a job
 * to one worker) or none may (its jobs wait up to a heartbeat). A scraper that stops removes its
 * id, so the others take its shards at their next heartbeat; one that is killed is dropped after
 * `expireMs`, and BullMQ hands its unfinished jobs on when their locks lapse, as before.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { SCRAPE_SHARDS, type RedisKeys } from '../common/keys.js';
import { throttledWarning, type Logger } from '../common/logger.js';

/** The shards the scraper of rank `rank` among `scrapers` works: every k with k mod scrapers == rank. */
export function shardsOf(rank: number, scrapers: number, shards: number = SCRAPE_SHARDS): number[] {
  const owned: number[] = [];
  if (rank < 0 || scrapers < 1) return owned;
  for (let shard = rank; shard < shards; shard += scrapers) owned.push(shard);
  return owned;
}

/**
 * KEYS: the scrapers set; ARGV: this scraper's id, expiry (ms). Renews the id at Redis's time,
 * drops the silent ones, returns every live id.
 */
const HEARTBEAT = `local time = redis.call('time')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('zadd', KEYS[1], nowMs, ARGV[1])
redis.call('zremrangebyscore', KEYS[1], '-inf', nowMs - tonumber(ARGV[2]))
redis.call('pexpire', KEYS[1], tonumber(ARGV[2]) * 2)
return redis.call('zrange', KEYS[1], 0, -1)`;

/** What ShardWorkers needs of a shard's worker (BullMQ's Worker is one). */
export interface ShardWorker {
  concurrency: number;
  close(): Promise<void>;
}

export interface ShardWorkersOptions {
  redis: Redis;
  keys: RedisKeys;
  heartbeatMs: number;
  /** A scraper not heard from for this long is taken for gone, and its shards for free. */
  expireMs: number;
  /** Jobs in flight across all this scraper's shards. */
  concurrency: number;
  /** Starts working one shard's queue with this many jobs in flight. */
  startShard: (shard: number, concurrency: number) => ShardWorker;
  logger: Logger;
}

export class ShardWorkers {
  readonly id = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly workers = new Map<number, ShardWorker>();
  private readonly closing = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private stopped = false;
  private readonly warn: (fields: Record<string, unknown>) => void;

  constructor(private readonly options: ShardWorkersOptions) {
    this.warn = throttledWarning(options.logger, 'scrape shard heartbeat failed');
  }

  /** The shards this scraper works now. */
  get shards(): number[] {
    return [...this.workers.keys()].sort((a, b) => a - b);
  }

  /** Takes this scraper's shards (when Redis answers) and keeps them current. */
  start(): void {
    const beat = (): void => {
      if (this.beating) return;
      this.beating = this.heartbeat().finally(() => (this.beating = undefined));
    };
    beat();
    this.timer = setInterval(beat, this.options.heartbeatMs);
  }

  /** One heartbeat: renew, read who is alive, work this scraper's shards. A Redis failure keeps the shards as they are. */
  async heartbeat(): Promise<void> {
    const { redis, keys, expireMs } = this.options;
    let members: string[];
    try {
      members = ((await redis.eval(HEARTBEAT, 1, keys.scrapers, this.id, expireMs)) as string[]).sort();
    } catch (error) {
      this.warn({ error: (error as Error).message });
      return;
    }
    if (this.stopped) return;
    this.work(shardsOf(members.indexOf(this.id), members.length));
  }

  private work(owned: readonly number[]): void {
    const perShard = Math.max(1, Math.ceil(this.options.concurrency / Math.max(1, owned.length)));
    for (const [shard, worker] of this.workers) {
      if (owned.includes(shard)) continue;
      this.workers.delete(shard);
      // Not awaited: closing waits for the shard's jobs in flight (up to a kubelet timeout).
      const closed = worker.close().catch(() => undefined);
      this.closing.add(closed);
      void closed.finally(() => this.closing.delete(closed));
    }
    for (const shard of owned) {
      const worker = this.workers.get(shard);
      if (worker) worker.concurrency = perShard;
      else this.workers.set(shard, this.options.startShard(shard, perShard));
    }
    this.options.logger.debug('scrape shards', { scraper: this.id, shards: this.shards });
  }

  /** Leaves the set (the others take the shards at their next heartbeat), then lets each shard's jobs in flight finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
    await this.options.redis.zrem(this.options.keys.scrapers, this.id).catch(() => undefined);
    const workers = [...this.workers.values()];
    this.workers.clear();
    await Promise.all([...workers.map((worker) => worker.close()), ...this.closing]);
  }
}
