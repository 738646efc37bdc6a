/**
 * Reads the short-term store (written by the exporter's StoreSink): the windows it lists, any
 * metric set of a window (from the window's staged hashes, which the store keeps), and one metric
 * of one set over a time range. Read-only; any number of API replicas may read one store.
 */
import type { Redis } from 'ioredis';
import { LONG_TERM_METRICS, longTermFieldOf, readLongTermValue } from '../common/batch-codec.js';
import type { WindowSummary } from '../common/jobs.js';
import type { RedisKeys } from '../common/keys.js';
import type { MetricSet, MetricValue } from '../common/metric-set.js';
import { StagedSets } from '../common/staging.js';

export interface Point {
  /** The window's end (Heapster's batch timestamp), ms since epoch. */
  timestampMs: number;
  value: MetricValue;
}

export class StoreReader {
  private readonly staged: StagedSets;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    this.staged = new StagedSets(redis, keys);
  }

  /** Window starts the store holds, oldest first, within [fromMs, toMs]. */
  async windows(fromMs = -Infinity, toMs = Infinity): Promise<number[]> {
    const found = await this.redis.zrangebyscore(this.keys.storeWindows, fromMs === -Infinity ? '-inf' : fromMs, toMs === Infinity ? '+inf' : toMs);
    return found.map(Number);
  }

  async latestWindow(): Promise<number | undefined> {
    const [latest] = await this.redis.zrevrange(this.keys.storeWindows, 0, 0);
    return latest === undefined ? undefined : Number(latest);
  }

  async summary(windowStartMs: number): Promise<WindowSummary | undefined> {
    const text = await this.redis.hget(this.keys.storeSummaries, String(windowStartMs));
    return text ? (JSON.parse(text) as WindowSummary) : undefined;
  }

  /** One set of a window; undefined once the window's full data expired. */
  set(key: string, windowStartMs: number): Promise<MetricSet | undefined> {
    return this.staged.set(windowStartMs, key);
  }

  /** Every set of a window whose key starts with `prefix` (e.g. `node:`; '' for all); with `types`, of those types only. */
  sets(windowStartMs: number, prefix = '', types?: readonly MetricSet['type'][]): Promise<MetricSet[]> {
    return this.staged.withPrefix(windowStartMs, prefix, types);
  }

  /**
   * One metric of one set over [fromMs, toMs] (window end times). Full windows answer any metric;
   * older windows answer only the long-term metrics (cpu/usage_rate, memory/usage). `labels`
   * selects one value of a labeled metric (e.g. filesystem/usage with resource_id "/").
   */
  async series(key: string, metric: string, fromMs = -Infinity, toMs = Infinity, labels?: Readonly<Record<string, string>>): Promise<Point[]> {
    const windows = await this.windows();
    const longTerm = LONG_TERM_METRICS.find((m) => m === metric);
    const points: Point[] = [];
    for (const windowStartMs of windows) {
      const summary = await this.summary(windowStartMs);
      if (!summary || summary.windowEndMs < fromMs || summary.windowEndMs > toMs) continue;
      const set = await this.set(key, windowStartMs);
      if (set) {
        const value = labels ? set.labeled.find((v) => v.name === metric && Object.entries(labels).every(([k, want]) => v.labels[k] === want))?.value : set.values[metric];
        if (value !== undefined) points.push({ timestampMs: summary.windowEndMs, value });
        continue;
      }
      if (longTerm === undefined || labels) continue;
      // The set's field; for a container also its own key, where a store written before fields were per pod kept it.
      const field = longTermFieldOf(key);
      const fields = field === key ? [field] : [field, key];
      const texts = await this.redis.hmget(this.keys.windowLong(windowStartMs), ...fields);
      let value: MetricValue | undefined;
      for (let i = 0; i < fields.length && value === undefined; i++) value = readLongTermValue(texts[i], fields[i]!, key, longTerm);
      if (value !== undefined) points.push({ timestampMs: summary.windowEndMs, value });
    }
    return points;
  }
}
