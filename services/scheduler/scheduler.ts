/**
 * The scheduler: one replica at a time holds a lease in Redis and, for every window, records the
 * manifest (expected nodes, deadline), enqueues the Ready nodes' scrape jobs (a few nodes of one
 * shard each, jobs.ts: ScrapeJob) with deterministic ids and spread delays, and a finalize job
 * delayed to the deadline. Replicas that do not hold the lease keep their list+watch warm and take over when the lease lapses (within a
 * third of a window). A second enqueue of the same window, by any replica, adds nothing: the
 * manifest is written only if absent and every job id is deterministic.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { NODES_PER_SCRAPE_JOB, type FinalizeJob, type ScrapeJob, type ScrapeTarget, type WindowManifest } from '../common/jobs.js';
import { JOB_ID, scrapeShardOf, type RedisKeys } from '../common/keys.js';
import type { Logger } from '../common/logger.js';
import type { PipelineQueues } from '../common/queues.js';
import type { ClusterMetadata } from './discovery.js';
import { dueWindowStart, planWindow, scrapeDelayMs, type WindowTiming } from './windows.js';

export interface SchedulerOptions {
  id: string;
  timing: WindowTiming;
  maxSpreadMs: number;
  /** Metadata keys expire after this unless refreshed (a dead scheduler's data ages out). */
  metadataTtlMs: number;
  now?: () => number;
}

/** One scrape job as `addBulk` takes it. */
export type ScrapeJobEntry = Parameters<Queue<ScrapeJob>['addBulk']>[0][number];

/** A node of a window to scrape, `spreadMs` after the window's scrape time (windows.ts: scrapeDelayMs). */
export interface SpreadScrape {
  target: ScrapeTarget;
  spreadMs: number;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Window W's scrape jobs by scrape shard: each shard's nodes in the order of their spread, up to
 * NODES_PER_SCRAPE_JOB to a job, the job started at its first node's time and kept
 * `keptAfterCompleteSeconds` once done. Its id names its first node; the same nodes give the same
 * jobs, so enqueuing a window again adds nothing.
 */
export function scrapeJobsByShard(
  scrapes: readonly SpreadScrape[],
  window: Pick<WindowManifest, 'windowStartMs' | 'scrapeAtMs' | 'deadlineMs'>,
  nowMs: number,
  keptAfterCompleteSeconds: number,
): Map<number, ScrapeJobEntry[]> {
  const byShard = new Map<number, SpreadScrape[]>();
  for (const scrape of scrapes) {
    const shard = scrapeShardOf(scrape.target.nodeName);
    const nodes = byShard.get(shard);
    if (nodes) nodes.push(scrape);
    else byShard.set(shard, [scrape]);
  }
  const jobs = new Map<number, ScrapeJobEntry[]>();
  for (const [shard, nodes] of byShard) {
    nodes.sort((a, b) => a.spreadMs - b.spreadMs || byName(a.target.nodeName, b.target.nodeName));
    const entries: ScrapeJobEntry[] = [];
    for (let i = 0; i < nodes.length; i += NODES_PER_SCRAPE_JOB) {
      const batch = nodes.slice(i, i + NODES_PER_SCRAPE_JOB);
      const first = batch[0]!;
      entries.push({
        name: 'scrape',
        data: { windowStartMs: window.windowStartMs, deadlineMs: window.deadlineMs, nodes: batch.map((n) => n.target) },
        opts: {
          jobId: JOB_ID.scrape(first.target.nodeName, window.windowStartMs),
          delay: Math.max(0, window.scrapeAtMs + first.spreadMs - nowMs),
          attempts: 3,
          removeOnComplete: { age: keptAfterCompleteSeconds },
        },
      });
    }
    jobs.set(shard, entries);
  }
  return jobs;
}

const RENEW_LEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private leader = false;
  private lastEnqueuedWindowMs = -1;
  private lastRefreshMs = 0;
  private running: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  readonly leaseTtlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly queues: PipelineQueues,
    private readonly metadata: ClusterMetadata,
    private readonly options: SchedulerOptions,
    private readonly logger: Logger,
  ) {
    this.now = options.now ?? Date.now;
    this.leaseTtlMs = Math.min(30_000, Math.max(2000, Math.round(options.timing.resolutionMs / 3)));
    redis.on('ready', () => this.metadata.markAllDirty());
  }

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    const tickMs = Math.min(1000, Math.round(this.leaseTtlMs / 4));
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.tick()).catch((error: unknown) => {
        this.logger.warn('scheduler tick failed', { error: error instanceof Error ? error.message : String(error) });
      });
    }, tickMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    if (this.leader) {
      await this.redis.eval(`if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`, 1, this.keys.schedulerLease, this.options.id).catch(() => undefined);
      this.leader = false;
    }
  }

  /** One step: hold or take the lease; as leader, publish metadata and enqueue a due window. */
  async tick(): Promise<void> {
    await this.holdLease();
    if (!this.leader) return;
    const now = this.now();
    if (now - this.lastRefreshMs > this.options.metadataTtlMs / 2) {
      const lost = await this.metadata.renewExpiry(this.redis, this.keys, this.options.metadataTtlMs);
      if (lost > 0) this.logger.warn('Redis had lost published metadata; publishing it again', { keys: lost });
      this.lastRefreshMs = now;
    }
    await this.metadata.publish(this.redis, this.keys, this.options.metadataTtlMs);
    const windowStartMs = dueWindowStart(now, this.options.timing);
    if (windowStartMs <= this.lastEnqueuedWindowMs) return;
    const plan = planWindow(windowStartMs, this.options.timing, []);
    if (now >= plan.deadlineMs) {
      this.lastEnqueuedWindowMs = windowStartMs;
      return;
    }
    await this.enqueueWindow(windowStartMs);
  }

  private async holdLease(): Promise<void> {
    const ttl = String(this.leaseTtlMs);
    if (this.leader) {
      const renewed = (await this.redis.eval(RENEW_LEASE, 1, this.keys.schedulerLease, this.options.id, ttl)) as number;
      if (renewed === 1) return;
      this.leader = false;
      this.logger.warn('lost the scheduler lease', { id: this.options.id });
    }
    const taken = await this.redis.set(this.keys.schedulerLease, this.options.id, 'PX', this.leaseTtlMs, 'NX');
    if (taken === 'OK') {
      this.leader = true;
      this.metadata.markAllDirty();
      this.logger.info('holding the scheduler lease; enqueuing windows', { id: this.options.id });
    }
  }

  /** Records window W's manifest (if absent) and adds its jobs; safe to repeat. */
  async enqueueWindow(windowStartMs: number): Promise<WindowManifest> {
    const targets = this.metadata.targets();
    const fresh = planWindow(windowStartMs, this.options.timing, targets.map((t) => t.nodeName));
    const manifestKey = this.keys.windowManifest(windowStartMs);
    const ttlMs = Math.max(10 * this.options.timing.resolutionMs, 600_000);
    const created = await this.redis.set(manifestKey, JSON.stringify(fresh), 'PX', ttlMs, 'NX');
    const manifest: WindowManifest = created === 'OK' ? fresh : (JSON.parse((await this.redis.get(manifestKey)) ?? JSON.stringify(fresh)) as WindowManifest);
    const urls = new Map(targets.map((t) => [t.nodeName, t.kubeletUrl]));
    const now = this.now();
    // A completed scrape job is kept only while a repeated enqueue of this window (a scheduler
    // failover) could add it again: until the deadline, and a minute more. Keeping them for 15 min
    // held 100,000+ job hashes in Redis at 10,000 nodes.
    const keptAfterCompleteSeconds = Math.ceil(Math.max(0, manifest.deadlineMs - now) / 1000) + 60;
    const scrapes: SpreadScrape[] = [];
    for (const nodeName of manifest.expectedNodes) {
      const kubeletUrl = urls.get(nodeName);
      if (kubeletUrl) scrapes.push({ target: { nodeName, kubeletUrl }, spreadMs: scrapeDelayMs(nodeName, manifest.expectedNodes.length, this.options.maxSpreadMs) });
    }
    for (const [shard, jobs] of scrapeJobsByShard(scrapes, manifest, now, keptAfterCompleteSeconds)) {
      for (let i = 0; i < jobs.length; i += 1000) await this.queues.scrape(shard).addBulk(jobs.slice(i, i + 1000));
    }
    const finalize: FinalizeJob = { windowStartMs };
    await this.queues.finalize.add('finalize', finalize, { jobId: JOB_ID.finalize(windowStartMs), delay: Math.max(0, manifest.deadlineMs - now) });
    this.lastEnqueuedWindowMs = windowStartMs;
    await this.redis.set(this.keys.lastWindow, JSON.stringify(manifest));
    if (created === 'OK') {
      this.logger.info('window enqueued', { windowStartMs, nodes: manifest.expectedNodes.length, deadlineMs: manifest.deadlineMs });
    }
    return manifest;
  }
}
