/**
 * The eventer: lists then watches Kubernetes events and hands them to every sink's export queue.
 * Restarts lose nothing and repeat nothing:
 * - the watch resumes from the resourceVersion kept in Redis, which is saved only after the events
 *   before it were enqueued;
 * - on `410 Gone` (the version expired) it lists again, and every event is checked against what
 *   was delivered for its uid (count and lastTimestamp), so the relist repeats nothing;
 * - a batch's job id is a hash of its events, so enqueueing it twice is one job, and sinks write
 *   idempotently (InfluxDB points keyed by uid and time, Elasticsearch ids from uid and count).
 */
import type { ApiServerConnection } from '../common/kube.js';
import type { Redis } from 'ioredis';
import type { EventRecord, EventsExportJob } from '../common/jobs.js';
import { JOB_ID, type RedisKeys } from '../common/keys.js';
import { listPage, listPages, watchOnce, WatchGoneError, type ApiObject } from '../common/list-watch.js';
import type { Logger } from '../common/logger.js';
import type { PipelineQueues } from '../common/queues.js';
import { execOrThrow } from '../common/redis.js';
import { batchHash, deliveredMark, eventRecord, isNew, type EventLike } from './events.js';

export interface EventerOptions {
  sinks: readonly string[];
  /** Only these namespaces (empty: all). */
  namespaces: readonly string[];
  flushIntervalMs: number;
  sinkAttempts: number;
  /** How long delivery marks are kept (events older than this are not checked again). */
  deliveredTtlMs: number;
}

export class Eventer {
  private stopped = false;
  private abort: AbortController | undefined;
  private buffer: EventRecord[] = [];
  private bufferedVersion: string | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly api: ApiServerConnection,
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly queues: PipelineQueues,
    private readonly options: EventerOptions,
    private readonly logger: Logger,
    private readonly onDelivered: (n: number) => void = () => undefined,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.abort?.abort();
    await this.loop.catch(() => undefined);
    await this.flush();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        let version = await this.redis.get(this.keys.eventsResourceVersion);
        if (!version) version = await this.list();
        await this.watch(version);
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof WatchGoneError) {
          this.logger.info('event watch expired (410 Gone); listing again', {});
          await this.flush();
          await this.redis.del(this.keys.eventsResourceVersion);
          continue;
        }
        this.logger.warn('event watch failed; retrying', { error: error instanceof Error ? error.message : String(error) });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /**
   * Lists every event a page at a time, enqueueing each page as it comes (a cluster can hold
   * hundreds of thousands of events: one unpaged list held them all at once), and returns the
   * list's resourceVersion, saved only with the last page.
   */
  private async list(): Promise<string> {
    let version = '';
    for await (const page of listPages((token) => listPage<EventLike & ApiObject>(this.api, '/api/v1/events', {}, token))) {
      for (const event of page.items) this.add(event);
      version = page.metadata?.resourceVersion ?? version;
      await this.flush();
    }
    this.bufferedVersion = version;
    await this.flush();
    return version;
  }

  private watch(version: string): Promise<void> {
    return watchOnce<EventLike & ApiObject>(this.api, '/api/v1/events', { resourceVersion: version }, (type, event) => {
      if (type === 'ADDED' || type === 'MODIFIED') this.add(event);
      if (event.metadata?.resourceVersion) this.bufferedVersion = event.metadata.resourceVersion;
    }, (controller) => (this.abort = controller));
  }

  private add(event: EventLike): void {
    const record = eventRecord(event);
    if (this.options.namespaces.length > 0 && !this.options.namespaces.includes(record.namespace)) return;
    this.buffer.push(record);
  }

  /** Enqueues what is new in the buffer for every sink, then marks it delivered and saves the version. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushNow()).catch((error: unknown) => {
      this.logger.warn('event delivery failed; will retry', { error: error instanceof Error ? error.message : String(error) });
    });
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    // Take the buffer and the version it reaches; events arriving meanwhile wait for the next flush.
    const batch = this.buffer;
    const version = this.bufferedVersion;
    if (batch.length === 0 && version === undefined) return;
    this.buffer = [];
    this.bufferedVersion = undefined;
    try {
      await this.deliver(batch, version);
    } catch (error) {
      // Nothing is lost: the batch goes back in front, the version is saved only with it.
      this.buffer = [...batch, ...this.buffer];
      this.bufferedVersion ??= version;
      throw error;
    }
  }

  private async deliver(batch: readonly EventRecord[], version: string | undefined): Promise<void> {
    // The newest sighting of each uid in the batch is the one that counts.
    const latest = new Map<string, EventRecord>();
    for (const event of batch) {
      const before = latest.get(event.uid);
      if (!before || isNew(event, deliveredMark(before))) latest.set(event.uid, event);
    }
    const candidates = [...latest.values()];
    const marks = candidates.length > 0 ? await this.redis.hmget(this.keys.eventsDelivered, ...candidates.map((e) => e.uid)) : [];
    const fresh = candidates.filter((e, i) => isNew(e, marks[i]));
    if (fresh.length > 0) {
      const data: EventsExportJob = { events: fresh };
      const hash = batchHash(fresh);
      for (const sink of this.options.sinks) {
        await this.queues.export(sink).add('events', data as never, { jobId: JOB_ID.events(sink, hash), attempts: this.options.sinkAttempts, backoff: { type: 'custom' } });
      }
    }
    const pipeline = this.redis.multi();
    for (const e of fresh) {
      pipeline.hset(this.keys.eventsDelivered, e.uid, deliveredMark(e));
      pipeline.zadd(this.keys.eventsSeen, e.lastTimestampMs, e.uid);
    }
    if (version !== undefined) pipeline.set(this.keys.eventsResourceVersion, version);
    await execOrThrow(pipeline);
    this.onDelivered(fresh.length);
    if (fresh.length > 0) this.logger.info('events delivered', { events: fresh.length, sinks: this.options.sinks.length });
    // The batch is delivered: a failed trim is logged, not retried with it (the next delivery trims).
    await trimDelivered(this.redis, this.keys, Date.now() - this.options.deliveredTtlMs).catch((error: unknown) => {
      this.logger.warn('forgetting old delivered events failed; the next delivery tries again', { error: error instanceof Error ? error.message : String(error) });
    });
  }
}

/** Delivered marks forgotten per delivery, at most: after a long outage the backlog goes over several. */
export const TRIM_BATCH = 1000;

/** Forgets the delivered marks of events last seen before `cutoffMs`, the oldest TRIM_BATCH at most; returns how many. */
export async function trimDelivered(redis: Redis, keys: RedisKeys, cutoffMs: number): Promise<number> {
  const old = await redis.zrangebyscore(keys.eventsSeen, '-inf', `(${cutoffMs}`, 'LIMIT', 0, TRIM_BATCH);
  if (old.length > 0) await execOrThrow(redis.multi().hdel(keys.eventsDelivered, ...old).zrem(keys.eventsSeen, ...old));
  return old.length;
}
