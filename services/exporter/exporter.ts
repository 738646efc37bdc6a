/**
 * The exporter runner: one `export-<sink>` job = write one staged window to that sink. When the
 * last sink has written a window, its staged metric sets are deleted (the summary, manifest and
 * outcomes stay until they expire: they are small, and late scrapes check them).
 */
import type { Redis } from 'ioredis';
import type { ExportJob } from '../common/jobs.js';
import type { RedisKeys } from '../common/keys.js';
import { stagedWindow, type Sink } from './sink.js';

const RELEASE_STAGING = `redis.call('srem', KEYS[1], ARGV[1])
if redis.call('scard', KEYS[1]) == 0 then redis.call('del', KEYS[1], KEYS[2], KEYS[3]) return 1 end
return 0`;

export async function handleExportJob(job: ExportJob, sink: Sink, redis: Redis, keys: RedisKeys): Promise<void> {
  const { windowStartMs } = job;
  await sink.write(await stagedWindow(redis, keys, windowStartMs));
  await redis.eval(RELEASE_STAGING, 3, keys.windowExports(windowStartMs), keys.windowNodes(windowStartMs), keys.windowPartials(windowStartMs), sink.name);
}
