/**
 * The exporter runner: one `export-<sink>` job = write one staged window to that sink. A
 * retryable failure fails the attempt (BullMQ retries with backoff, honouring Retry-After); a
 * permanent one moves the job to the failed set at once. When the last sink has written a window,
 * its staging is released (`releaseStaging`; summary, manifest and outcomes stay until they expire).
 */
import { UnrecoverableError } from 'bullmq';
import type { ChainableCommander, Redis } from 'ioredis';
import type { EventsExportJob, ExportJob } from '../common/jobs.js';
import type { RedisKeys } from '../common/keys.js';
import type { Logger } from '../common/logger.js';
import { execOrThrow } from '../common/redis.js';
import { backoffDelayMs, SinkWriteError } from './retry.js';
import { stagedWindow, WindowGoneError, type Sink } from './sink.js';

/**
 * KEYS: exports, sets, long, partials, kept; ARGV: the sink that wrote the window. The last sink
 * deletes the partials, and the sets and long values unless the store keeps them: then they
 * expire when `kept` says (PEXPIREAT), or now if that has passed. Returns 1 when released.
 */
const RELEASE_STAGING = `redis.call('srem', KEYS[1], ARGV[1])
if redis.call('scard', KEYS[1]) > 0 then return 0 end
redis.call('del', KEYS[1], KEYS[4])
local time = redis.call('time')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for i, field in ipairs({'sets', 'long'}) do
  local untilMs = tonumber(redis.call('hget', KEYS[5], field) or '0')
  if untilMs > nowMs then redis.call('pexpireat', KEYS[i + 1], untilMs) else redis.call('del', KEYS[i + 1]) end
end
return 1`;

/** Records that `sinkName` wrote window W (queued on `commands`); the last sink releases its staging. */
export function releaseStaging(commands: ChainableCommander, keys: RedisKeys, windowStartMs: number, sinkName: string): ChainableCommander {
  return commands.eval(RELEASE_STAGING, 5, keys.windowExports(windowStartMs), keys.windowSets(windowStartMs), keys.windowLong(windowStartMs), keys.windowPartials(windowStartMs), keys.windowKept(windowStartMs), sinkName);
}

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
  const written = redis
    .multi()
    .zadd(keys.sinkWritten(sink.name), windowStartMs, `${windowStartMs}-${Date.now()}`)
    .zremrangebyrank(keys.sinkWritten(sink.name), 0, -(WRITTEN_KEPT + 1));
  await execOrThrow(releaseStaging(written, keys, windowStartMs, sink.name));
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
