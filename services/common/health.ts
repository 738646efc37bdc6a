/**
 * The health checks every role serves (pipeline-wide, read from Redis, so any replica answers
 * the same):
 *   /healthz  this process reaches Redis
 *   /livez    the newest window's scrapes started within 1.5 resolutions (the scheduler is alive)
 *   /readyz   the short-term store holds a window (the APIs have data to serve)
 */
import type { Redis } from 'ioredis';
import type { WindowManifest } from './jobs.js';
import type { RedisKeys } from './keys.js';

export type HealthPath = '/healthz' | '/livez' | '/readyz';
export const HEALTH_PATHS: readonly string[] = ['/healthz', '/livez', '/readyz'];

export async function checkHealth(path: HealthPath, redis: Redis, keys: RedisKeys, nowMs = Date.now()): Promise<{ ok: boolean; text: string }> {
  try {
    if (path === '/healthz') return (await redis.ping()) === 'PONG' ? { ok: true, text: 'ok' } : { ok: false, text: 'redis unreachable' };
    if (path === '/readyz') {
      const [latest] = await redis.zrevrange(keys.storeWindows, 0, 0);
      return latest !== undefined ? { ok: true, text: 'ok' } : { ok: false, text: 'no window in the store yet' };
    }
    const text = await redis.get(keys.lastWindow);
    if (!text) return { ok: false, text: 'no window started yet' };
    const manifest = JSON.parse(text) as WindowManifest;
    const ageMs = nowMs - manifest.scrapeAtMs;
    return ageMs <= 1.5 * (manifest.windowEndMs - manifest.windowStartMs) ? { ok: true, text: 'ok' } : { ok: false, text: `last window started ${Math.round(ageMs / 1000)} s ago` };
  } catch (error) {
    return { ok: false, text: `redis unreachable: ${(error as Error).message}` };
  }
}
