/**
 * What every role builds first and closes last: the logger, one Redis connection, the queues.
 * `runUntilSignal` waits for SIGINT/SIGTERM and shuts down in order: workers and loops first
 * (each finishes or releases its job), then the queues, then Redis.
 */
import type { Redis } from 'ioredis';
import { reader } from './config.js';
import { redisKeys, type RedisKeys } from './keys.js';
import { createLogger, type Logger, type LogLevel } from './logger.js';
import { openQueues, type PipelineQueues } from './queues.js';
import { connectRedis } from './redis.js';

export type ConfigReader = ReturnType<typeof reader>;

export interface Runtime {
  redis: Redis;
  keys: RedisKeys;
  queues: PipelineQueues;
  logger: Logger;
  lockDurationMs: number;
}

/** Something started that must be stopped at shutdown. */
export interface Service {
  stop(): Promise<void>;
}

export function openRuntime(get: ConfigReader, role: string): Runtime {
  const logger = createLogger(role, get.string('log-level') as LogLevel);
  const keys = redisKeys(get.string('redis-prefix'));
  const redis = connectRedis(get.string('redis-url'), logger, `podometer-${role}`);
  return { redis, keys, queues: openQueues(redis, keys), logger, lockDurationMs: get.number('job-lock-duration') };
}

export async function closeRuntime(runtime: Runtime, services: readonly Service[]): Promise<void> {
  for (const service of services) await service.stop();
  await runtime.queues.close();
  await runtime.redis.quit().catch(() => runtime.redis.disconnect());
}

/** Resolves when the process is asked to stop. */
export function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

export async function runUntilSignal(runtime: Runtime, services: readonly Service[]): Promise<number> {
  const signal = await stopSignal();
  runtime.logger.info('stopping', { signal });
  await closeRuntime(runtime, services);
  return 0;
}
