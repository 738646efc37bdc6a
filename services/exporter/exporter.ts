/**
 * The exporter runner: one `export-<sink>` job = write one staged window to that sink. A
 * retryable failure fails the attempt (BullMQ retries with backoff, honouring Retry-After); a
 * permanent one moves the job to the failed set at once. When the last sink has written a window,
 * its staged metric sets are deleted (summary, manifest and outcomes stay until they expire).
 */
import { UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { EventsExportJob, ExportJob } from '../common/jobs.js';
import type { RedisKeys } from '../common/keys.js';
import type { Logger } from '../common/logger.js';
import { backoffDelayMs, SinkWriteError } from './retry.js';
import { stagedWindow, WindowGoneError, type Sink } from './sink.js';

const RELEASE_STAGING = `redis.call('srem', KEYS[1], ARGV[1])
if redis.call('scard', KEYS[1]) == 0 then redis.call('del', KEYS[1], KEYS[2], KEYS[3], KEYS[4]) return 1 end
return 0`;

/** Windows whose write time is kept per sink (`sink:<name>:written`). */
const WRITTEN_KEPT = 1000;

export async function handleExportJob(job: ExportJob, sink: Sink, redis: Redis, keys: RedisKeys, logger?: Logger): Promise<void> {
  const { windowStartMs } = job;
  const startedMs = Date.now();
  try {
    await sink.write(await stagedWindow(redis, keys, windowStartMs));
    logger?.info('window exported', { sink: sink.name, windowStartMs, durationMs: Date.now() - startedMs });
  } catch (error) {
    if (error instanceof WindowGoneError || (error instanceof SinkWriteError && !error.retryable)) throw new UnrecoverableError(error.message);
    throw error;
  }
  await redis
    .multi()
    .zadd(keys.sinkWritten(sink.name), windowStartMs, `${windowStartMs}-${Date.now()}`)
    .zremrangebyrank(keys.sinkWritten(sink.name), 0, -(WRITTEN_KEPT + 1))
    .eval(RELEASE_STAGING, 4, keys.windowExports(windowStartMs), keys.windowSets(windowStartMs), keys.windowLong(windowStartMs), keys.windowPartials(windowStartMs), sink.name)
    .exec();
}

/** An `events` job: the eventer's batch for this sink (sinks without events support ignore it). */
export async function handleEventsJob(job: EventsExportJob, sink: Sink): Promise<void> {
  if (!sink.writeEvents) return;
  try {
    await sink.writeEvents(job.events);
  } catch (error) {
    if (error instanceof SinkWriteError && !error.retryable) throw new UnrecoverableError(error.message);
    throw error;
  }
}

/** BullMQ backoff for export jobs: exponential with jitter, at least the server's Retry-After. */
export function exportBackoff(baseMs: number, maxMs: number) {
  return (attemptsMade: number, _type?: string, error?: Error): number =>
    backoffDelayMs(attemptsMade, baseMs, maxMs, error instanceof SinkWriteError ? error.retryAfterMs : undefined);
}
