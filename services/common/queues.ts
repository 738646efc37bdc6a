/**
 * BullMQ queues and workers with Podometer's defaults. Services get their queues here and never
 * name a queue by hand. Job retention keeps completed jobs long enough for deterministic ids to
 * deduplicate a repeated enqueue of the same window, and failed jobs for a day (Bull Board).
 */
import { Queue, Worker, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ExportJob, FinalizeJob, ProcessJob, ScrapeJob } from './jobs.js';
import { QUEUE, type RedisKeys } from './keys.js';
import type { Logger } from './logger.js';

export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 900, count: 100_000 },
  removeOnFail: { age: 86_400 },
};

export interface PipelineQueues {
  scrape: Queue<ScrapeJob>;
  process: Queue<ProcessJob>;
  finalize: Queue<FinalizeJob>;
  export(sink: string): Queue<ExportJob>;
  all(): Queue[];
  close(): Promise<void>;
}

/** The queues of one Podometer (one prefix), sharing one Redis connection. */
export function openQueues(connection: Redis, keys: RedisKeys): PipelineQueues {
  const options = { connection, prefix: keys.bullPrefix, defaultJobOptions: DEFAULT_JOB_OPTIONS };
  const scrape = new Queue<ScrapeJob>(QUEUE.scrape, options);
  const process = new Queue<ProcessJob>(QUEUE.process, options);
  const finalize = new Queue<FinalizeJob>(QUEUE.finalize, options);
  const exports = new Map<string, Queue<ExportJob>>();
  const queues = {
    scrape,
    process,
    finalize,
    export(sink: string): Queue<ExportJob> {
      let queue = exports.get(sink);
      if (!queue) exports.set(sink, (queue = new Queue<ExportJob>(QUEUE.export(sink), options)));
      return queue;
    },
    all: (): Queue[] => [scrape, process, finalize, ...exports.values()] as Queue[],
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
    stalledInterval: Math.max(250, Math.round(options.lockDurationMs / 4)),
    maxStalledCount: 2,
    ...(options.backoffStrategy ? { settings: { backoffStrategy: options.backoffStrategy } } : {}),
  });
  worker.on('failed', (job, error) => {
    options.logger.warn('job failed', { queue: options.queue, job: job?.id, attempt: job?.attemptsMade, error: error.message });
  });
  // While Redis is down every reconnect attempt errors: say so once per 30 s, with the count.
  let lastLoggedMs = 0;
  let suppressed = 0;
  worker.on('error', (error) => {
    const now = Date.now();
    if (now - lastLoggedMs < 30_000) {
      suppressed++;
      return;
    }
    options.logger.warn('worker error', { queue: options.queue, error: error.message, ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}) });
    lastLoggedMs = now;
    suppressed = 0;
  });
  return worker;
}
