/**
 * Heapster's `/api/v1/metric-export` shape (api/v1/types: Timeseries and Point):
 *   [{ "labels": {...}, "metrics": { "<metric/name>": [{ "start", "end", "value", "labels"? }] } }]
 * Times are RFC 3339; a value that a JSON number cannot carry exactly is a decimal string.
 */
import { METRICS_BY_NAME } from './metrics.js';
import { jsonSafeValue, toApproxNumber, type Labels, type MetricSet, type MetricValue } from './metric-set.js';

export interface ExportPoint {
  start: string;
  end: string;
  value: number | string;
  labels?: Labels;
}

export interface ExportTimeseries {
  labels: Labels;
  metrics: Record<string, ExportPoint[]>;
}

export function toRfc3339(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/**
 * One Timeseries per metric set. Each point spans [startMs, end] where end is the set's sample time
 * and start is `pointStartMs(set)` (the previous sample for rates, else the sample time itself).
 */
export function toMetricExport(sets: readonly MetricSet[], pointStartMs: (set: MetricSet, metric: string) => number = (s) => s.scrapeTimeMs): ExportTimeseries[] {
  return sets.map((set) => {
    const metrics: Record<string, ExportPoint[]> = {};
    const end = toRfc3339(set.scrapeTimeMs);
    const point = (metric: string, value: MetricValue, labels?: Labels): ExportPoint => {
      const p: ExportPoint = { start: toRfc3339(pointStartMs(set, metric)), end, value: jsonSafeValue(value) };
      if (labels) p.labels = labels;
      return p;
    };
    for (const name of Object.keys(set.values).sort()) {
      metrics[name] = [point(name, set.values[name]!)];
    }
    for (const labeled of set.labeled) {
      (metrics[labeled.name] ??= []).push(point(labeled.name, labeled.value, labeled.labels));
    }
    return { labels: set.labels, metrics };
  });
}

/** A human-readable value with its unit, for tables. */
export function formatValue(metric: string, value: MetricValue): string {
  const unit = METRICS_BY_NAME.get(metric)?.unit;
  if (typeof value === 'bigint') return `${value}${unit === 'bytes' ? ' B' : ''}`;
  switch (unit) {
    case 'bytes':
      return formatBytes(value);
    case 'millicores':
      return `${round(value)}m`;
    case 'nanoseconds':
      return `${round(value / 1e9)} cpu-s`;
    case 'milliseconds':
      return `${round(value / 1000)} s`;
    case 'bytes_per_second':
      return `${formatBytes(value)}/s`;
    case 'count_per_second':
      return `${round(value)}/s`;
    case 'ratio':
      return `${round(value * 100)}%`;
    case 'percent':
      return `${value}%`;
    default:
      return String(toApproxNumber(value));
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : round(value)} ${units[unit]}`;
}

function round(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
}
