/** The exporter runner: one `export-<sink>` job = write one staged window to that sink. */
import type { Redis } from 'ioredis';
import type { ExportJob } from '../common/jobs.js';
import type { RedisKeys } from '../common/keys.js';
import { stagedWindow, type Sink } from './sink.js';

export async function handleExportJob(job: ExportJob, sink: Sink, redis: Redis, keys: RedisKeys): Promise<void> {
  await sink.write(await stagedWindow(redis, keys, job.windowStartMs));
}
