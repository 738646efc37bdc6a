/**
 * Heapster's two InfluxDB schemas as line protocol (pure functions; no I/O):
 * - default: one measurement per metric (`cpu/usage_rate`), field `value`;
 * - `withfields=true`: one measurement per family (`cpu`), one field per rest of the name
 *   (`usage_rate`), all of a set's fields of one family on one line.
 * Tags are the set's labels (and a labeled value's own labels) except Heapster's excluded
 * `namespace_id`, `pod_id`, `hostname`, `host_id`, and except empty values, plus `cluster_name`.
 * Every point of a window has the window's end as its time (Heapster's batch timestamp), in ms.
 * A point is keyed by measurement, tags and time, so writing a window twice leaves one copy.
 */
import { familyAndField, LABEL, METRICS_BY_NAME, RATE_OF_CUMULATIVE } from '../../common/metrics.js';
import type { Labels, MetricSet, MetricValue } from '../../common/metric-set.js';

/** Labels Heapster never wrote as InfluxDB tags (high cardinality or duplicated). */
export const INFLUX_EXCLUDED_TAGS: ReadonlySet<string> = new Set([LABEL.namespaceId, LABEL.podId, LABEL.hostname, LABEL.hostId]);

export interface InfluxEncodeOptions {
  withFields: boolean;
  clusterName: string;
  disableCounterMetrics: boolean;
}

const INT64_MAX = 2n ** 63n - 1n;
const escapeKey = (text: string): string => text.replace(/[,= \\]/g, (c) => `\\${c}`);
const escapeMeasurement = (text: string): string => text.replace(/[, \\]/g, (c) => `\\${c}`);

/** A field value: int64 metrics with the `i` suffix (uint64 above int64's range is capped), floats plain. */
export function fieldValue(metric: string, value: MetricValue): string | undefined {
  const integer = METRICS_BY_NAME.get(metric)?.valueType !== 'float';
  if (typeof value === 'bigint') return integer ? `${value > INT64_MAX ? INT64_MAX : value}i` : String(Number(value));
  if (!Number.isFinite(value)) return undefined;
  if (integer) return `${Math.round(value)}i`;
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

function tagString(labels: Labels, extra: Labels | undefined, clusterName: string): string {
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) if (value !== '' && !INFLUX_EXCLUDED_TAGS.has(key)) tags[key] = value;
  for (const [key, value] of Object.entries(extra ?? {})) if (value !== '' && !INFLUX_EXCLUDED_TAGS.has(key)) tags[key] = value;
  tags.cluster_name = clusterName;
  return Object.keys(tags)
    .sort()
    .map((key) => `,${escapeKey(key)}=${escapeKey(tags[key]!)}`)
    .join('');
}

/** Line-protocol lines for one window's sets. */
export function encodeInfluxLines(sets: readonly MetricSet[], timeMs: number, options: InfluxEncodeOptions): string[] {
  const lines: string[] = [];
  const skip = (name: string): boolean => options.disableCounterMetrics && RATE_OF_CUMULATIVE.has(name);
  for (const set of sets) {
    const setTags = tagString(set.labels, undefined, options.clusterName);
    const families = new Map<string, string[]>();
    const emit = (name: string, value: MetricValue, tags: string): void => {
      const field = fieldValue(name, value);
      if (field === undefined || skip(name)) return;
      if (!options.withFields) {
        lines.push(`${escapeMeasurement(name)}${tags} value=${field} ${timeMs}`);
        return;
      }
      const { family, field: fieldName } = familyAndField(name);
      if (tags !== setTags) {
        lines.push(`${escapeMeasurement(family)}${tags} ${escapeKey(fieldName)}=${field} ${timeMs}`);
        return;
      }
      let fields = families.get(family);
      if (!fields) families.set(family, (fields = []));
      fields.push(`${escapeKey(fieldName)}=${field}`);
    };
    for (const [name, value] of Object.entries(set.values)) emit(name, value, setTags);
    for (const labeled of set.labeled) emit(labeled.name, labeled.value, tagString(set.labels, labeled.labels, options.clusterName));
    for (const [family, fields] of families) lines.push(`${escapeMeasurement(family)}${setTags} ${fields.join(',')} ${timeMs}`);
  }
  return lines;
}

/** Splits lines into batches of at most `maxPoints` lines and about `maxBytes` bytes. */
export function batchLines(lines: readonly string[], maxPoints: number, maxBytes: number): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line) + 1;
    if (current.length > 0 && (current.length >= maxPoints || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(line);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
