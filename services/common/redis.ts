/**
 * Redis connections. Every role uses two command connections (its own commands; its BullMQ queues
 * and workers: see Runtime) and BullMQ adds one blocking connection per worker. Connections retry
 * for ever with capped backoff, and commands wait for the reconnect rather than fail
 * (`maxRetriesPerRequest: null`), so a Redis restart pauses the pipeline instead of losing work.
 */
import { Redis, type ChainableCommander } from 'ioredis';
import type { Logger } from './logger.js';
import { redactUrl } from './logger.js';

export function connectRedis(url: string, logger: Logger, name: string): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    connectionName: name,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
    lazyConnect: false,
  });
  let wasDown = false;
  redis.on('error', (error: Error) => {
    if (!wasDown) logger.warn('redis connection problem; retrying', { redis: redactUrl(url), error: error.message });
    wasDown = true;
  });
  redis.on('ready', () => {
    if (wasDown) logger.info('redis connection back', { redis: redactUrl(url) });
    wasDown = false;
  });
  return redis;
}

/** A `redis://` URL's problem, or undefined when fine (for config checks). */
export function checkRedisUrl(text: string): string | undefined {
  try {
    const url = new URL(text);
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return 'must be a redis:// or rediss:// URL';
    return undefined;
  } catch {
    return 'must be a URL such as redis://127.0.0.1:6379';
  }
}

/**
 * Runs a pipeline or `MULTI` and throws the first command's error. ioredis resolves `exec()` with
 * an `[error, reply]` pair per command, so without this a refused write (OOM, MISCONF, a closed
 * connection without the offline queue) passes unnoticed and is lost instead of retried.
 */
export async function execOrThrow(commands: ChainableCommander): Promise<[error: Error | null, reply: unknown][]> {
  const replies = (await commands.exec()) ?? [];
  for (const [error] of replies) if (error) throw error;
  return replies;
}
