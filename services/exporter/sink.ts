/**
 * The sink contract (Telegraf's output shape): a sink writes one finalized window and nothing
 * else; it does not buffer, retry or count. The exporter runner reads the window from staging,
 * and BullMQ (one `export-<sink>` queue per sink) owns retries with backoff and the failed set.
 * A write must be idempotent: the same window written twice leaves one copy.
 */
import type { Redis } from 'ioredis';
import type { EventRecord, WindowSummary } from '../common/jobs.js';
import type { RedisKeys } from '../common/keys.js';
import type { MetricSet } from '../common/metric-set.js';
import { StagedSets } from '../common/staging.js';

export interface WindowBatch {
  readonly summary: WindowSummary;
  /** The window's metric sets, a few thousand at a time. */
  chunks(): AsyncIterable<MetricSet[]>;
}

export interface Sink {
  readonly name: string;
  write(window: WindowBatch): Promise<void>;
  /** Kubernetes events (the eventer's), for sinks that store them; idempotent like `write`. */
  writeEvents?(events: readonly EventRecord[]): Promise<void>;
  close(): Promise<void>;
}

export class WindowGoneError extends Error {
  constructor(windowStartMs: number) {
    super(`window ${windowStartMs} is no longer staged (staging retention passed); it cannot be exported`);
    this.name = 'WindowGoneError';
  }
}

/** A finalized window as staged in Redis; read in chunks so memory stays flat. */
export async function stagedWindow(redis: Redis, keys: RedisKeys, windowStartMs: number): Promise<WindowBatch> {
  const summaryText = await redis.get(keys.windowSummary(windowStartMs));
  if (!summaryText) throw new WindowGoneError(windowStartMs);
  const summary = JSON.parse(summaryText) as WindowSummary;
  return {
    summary,
    chunks: () => new StagedSets(redis, keys).chunks(windowStartMs),
  };
}
