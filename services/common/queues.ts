/**
 * BullMQ queues and workers with Podometer's defaults. Services get their queues here and never
 * name a queue by hand. Job retention keeps completed jobs long enough for deterministic ids to
 * deduplicate a repeated enqueue of the same window, and failed jobs for a day (Bull Board).
 */
import { Queue, Worker, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ExportJob, FinalizeJob, ScrapeJob } from './jobs.js';
import { QUEUE, SCRAPE_SHARDS, type RedisKeys } from './keys.js';
import { throttledWarning, type Logger } from './logger.js';

export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 900, count: 100_000 },
  removeOnFail: { age: 86_400 },
};

export interface PipelineQueues {
  /** The scrape queue of one shard (`scrapeShardOf(node)`). */
  scrape(shard: number): Queue<ScrapeJob>;
  /** The scrape queue of every shard. */
  scrapeShards(): Queue<ScrapeJob>[];
  finalize: Queue<FinalizeJob>;
  export(sink: string): Queue<ExportJob>;
  all(): Queue[];
  close(): Promise<void>;
}

/** The queues of one Podometer (one prefix), sharing one Redis connection. */
export function openQueues(connection: Redis, keys: RedisKeys, logger: Logger): PipelineQueues {
  const options = { connection, prefix: keys.bullPrefix, defaultJobOptions: DEFAULT_JOB_OPTIONS };
  const warn = throttledWarning(logger, 'queue error');
  const open = <T>(name: string): Queue<T> => {
    const queue = new Queue<T>(name, options);
    queue.on('error', (error: Error) => warn({ queue: name, error: error.message }));
    return queue;
  };
  const scrape = Array.from({ length: SCRAPE_SHARDS }, (_, shard) => open<ScrapeJob>(QUEUE.scrape(shard)));
  const finalize = open<FinalizeJob>(QUEUE.finalize);
  const exports = new Map<string, Queue<ExportJob>>();
  const queues = {
    scrape(shard: number): Queue<ScrapeJob> {
      const queue = scrape[shard];
      if (!queue) throw new RangeError(`no scrape shard ${shard} (0-${SCRAPE_SHARDS - 1})`);
      return queue;
    },
    scrapeShards: (): Queue<ScrapeJob>[] => [...scrape],
    finalize,
    export(sink: string): Queue<ExportJob> {
      let queue = exports.get(sink);
      if (!queue) exports.set(sink, (queue = open<ExportJob>(QUEUE.export(sink))));
      return queue;
    },
    all: (): Queue[] => [...scrape, finalize, ...exports.values()] as Queue[],
    close: async (): Promise<void> => {
      for (const queue of queues.all()) await queue.close();
    },
  };
  return queues;
}

export interface WorkerOptions<T> {
  queue: string;
  connection: Redis;
  keys: RedisKeys;
  concurrency: number;
  lockDurationMs: number;
  logger: Logger;
  handle: (data: T, job: Job<T>) => Promise<unknown>;
  /** Delay before a retry (jobs added with `backoff: { type: 'custom' }`). */
  backoffStrategy?: (attemptsMade: number, type?: string, error?: Error) => number;
}

/** How often a worker checks for stalled jobs (a quarter of the lock duration, at least 250 ms). */
export const stalledIntervalMs = (lockDurationMs: number): number => Math.max(250, Math.round(lockDurationMs / 4));

/**
 * How long (s) an idle worker's blocking wait for a job lasts before it asks again. An added job
 * wakes it at once, so this only sets how often an idle queue is polled (BullMQ's default is 5).
 * An idle scraper runs a worker per shard it owns (16 when alone): at 30 s it used 2.7-2.8 ms of
 * CPU per second against 3.6 at 5 (90 s of an idle scraper each, throwaway measurement).
 */
const IDLE_WAIT_SECONDS = 30;

/**
 * A worker: runs `handle` for each job, logs failures with the job id, and lets BullMQ give a
 * job whose lock lapsed (its worker was killed) to another worker. Stalled checks run four times
 * per lock duration, so a killed worker's job is picked up within 1.25 lock durations.
 */
export function startWorker<T>(options: WorkerOptions<T>): Worker<T> {
  const worker = new Worker<T>(options.queue, async (job) => options.handle(job.data, job), {
    connection: options.connection,
    prefix: options.keys.bullPrefix,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: stalledIntervalMs(options.lockDurationMs),
    drainDelay: IDLE_WAIT_SECONDS,
    maxStalledCount: 2,
    ...(options.backoffStrategy ? { settings: { backoffStrategy: options.backoffStrategy } } : {}),
  });
  worker.on('failed', (job, error) => {
    options.logger.warn('job failed', { queue: options.queue, job: job?.id, attempt: job?.attemptsMade, error: error.message });
  });
  const warn = throttledWarning(options.logger, 'worker error');
  worker.on('error', (error) => warn({ queue: options.queue, error: error.message }));
  return worker;
}
