/**
 * Metric sets as they travel between stages and live in Redis (staging, the short-term store,
 * rate samples): compact JSON, one array per set,
 *
 *   [key, type, labels, createTimeMs | null, scrapeTimeMs, sampleTimeOffsets, values, labeledGroups]
 *
 * - sampleTimeOffsets: each clock of CLOCKS in order, its sample time minus scrapeTimeMs (ms), or
 *   null; trailing nulls left out.
 * - values: metric name -> value.
 * - labeledGroups: [labels, {metric name -> value}] per distinct label set, in first-seen order
 *   (a filesystem's five metrics share one group instead of repeating name/labels/value keys).
 * A bigint value (above 2^53) is written as its decimal string; no metric value is otherwise a
 * string, so decoding is exact and unambiguous.
 *
 * Why not the MetricSet object as JSON: the keys (`"name":`, `"labels":{"resource_id":"/"}`,
 * `"sampleTimesMs":{...}`) made up ~40% of every set. Encoding them and writing them to Redis
 * was the processor's largest cost, and they filled the store.
 * `decodeMetricSet` also reads that older object form, so a store written by an older version
 * stays readable through an upgrade.
 */
import { normalizeInteger, sameLabels, type Labels, type LabeledValue, type MetricSet, type MetricValue } from './metric-set.js';
import type { SampleClock } from './metrics.js';

const CLOCKS: readonly Exclude<SampleClock, 'scrape'>[] = ['cpu', 'memory', 'network', 'fs', 'accelerator'];

type JsonValue = number | string;
type CompactSet = [string, MetricSet['type'], Labels, number | null, number, (number | null)[], Record<string, JsonValue>, [Labels, Record<string, JsonValue>][]];

const jsonValue = (value: MetricValue): JsonValue => (typeof value === 'bigint' ? value.toString() : value);
const revive = (value: JsonValue): MetricValue => (typeof value === 'string' ? normalizeInteger(BigInt(value)) : value);

function toCompact(set: MetricSet): CompactSet {
  const offsets: (number | null)[] = [];
  for (let i = 0; i < CLOCKS.length; i++) {
    const timeMs = set.sampleTimesMs[CLOCKS[i]!];
    if (timeMs === undefined) continue;
    while (offsets.length < i) offsets.push(null);
    offsets.push(timeMs - set.scrapeTimeMs);
  }
  let values = set.values as Record<string, JsonValue>;
  for (const name in set.values) {
    if (typeof set.values[name] !== 'bigint') continue;
    values = {};
    for (const each in set.values) values[each] = jsonValue(set.values[each]!);
    break;
  }
  const groups: [Labels, Record<string, JsonValue>][] = [];
  for (const { name, labels, value } of set.labeled) {
    // The newest group with these labels that does not yet hold this metric (two values of one
    // metric with the same labels get two groups, so nothing is lost).
    let group: [Labels, Record<string, JsonValue>] | undefined;
    for (let i = groups.length - 1; i >= 0 && group === undefined; i--) if (sameLabels(groups[i]![0], labels)) group = groups[i];
    if (group === undefined || name in group[1]) groups.push((group = [labels, {}]));
    group[1][name] = jsonValue(value);
  }
  return [set.key, set.type, set.labels, set.createTimeMs ?? null, set.scrapeTimeMs, offsets, values, groups];
}

function fromCompact([key, type, labels, createTimeMs, scrapeTimeMs, offsets, values, groups]: CompactSet): MetricSet {
  const sampleTimesMs: MetricSet['sampleTimesMs'] = {};
  for (let i = 0; i < offsets.length; i++) if (offsets[i] !== null) sampleTimesMs[CLOCKS[i]!] = scrapeTimeMs + offsets[i]!;
  for (const name in values) if (typeof values[name] === 'string') values[name] = revive(values[name]!) as number;
  const labeled: LabeledValue[] = [];
  for (const [groupLabels, groupValues] of groups) for (const name in groupValues) labeled.push({ name, labels: groupLabels, value: revive(groupValues[name]!) });
  const set: MetricSet = { key, type, labels, scrapeTimeMs, sampleTimesMs, values: values as Record<string, MetricValue>, labeled };
  if (createTimeMs !== null) set.createTimeMs = createTimeMs;
  return set;
}

/** A set in the older object form (MetricSet as JSON, bigints as strings), revived in place. */
function fromObject(set: MetricSet): MetricSet {
  for (const name in set.values) {
    const value = set.values[name]!;
    if (typeof value === 'string') set.values[name] = revive(value);
  }
  for (const labeled of set.labeled) {
    if (typeof labeled.value === 'string') (labeled as { value: MetricValue }).value = revive(labeled.value);
  }
  return set;
}

const fromJson = (parsed: CompactSet | MetricSet): MetricSet => (Array.isArray(parsed) ? fromCompact(parsed) : fromObject(parsed));

export function encodeMetricSets(sets: readonly MetricSet[]): string {
  return JSON.stringify(sets.map(toCompact));
}

export function encodeMetricSet(set: MetricSet): string {
  return JSON.stringify(toCompact(set));
}

export function decodeMetricSets(text: string): MetricSet[] {
  return (JSON.parse(text) as (CompactSet | MetricSet)[]).map(fromJson);
}

export function decodeMetricSet(text: string): MetricSet {
  return fromJson(JSON.parse(text) as CompactSet | MetricSet);
}

/** The set as a readable JSON object (for people: the log sink), bigints as decimal strings. */
export function metricSetJson(set: MetricSet): string {
  return JSON.stringify(set, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

/**
 * The metrics the short-term store keeps past the full retention (Heapster's model kept
 * cpu/usage_rate and memory/usage longest), joined with `|` in this order: the value of
 * `store:long:<W>` for one set key. An absent value is an empty part.
 */
export const LONG_TERM_METRICS = ['cpu/usage_rate', 'memory/usage'] as const;

/** The set's long-term values, or undefined when it has none. */
export function encodeLongTermValues(set: MetricSet): string | undefined {
  const rate = set.values['cpu/usage_rate'];
  const memory = set.values['memory/usage'];
  if (rate === undefined && memory === undefined) return undefined;
  return `${rate === undefined ? '' : rate.toString()}|${memory === undefined ? '' : memory.toString()}`;
}

/** One long-term metric out of a `store:long` value; undefined when the set had none. */
export function decodeLongTermValue(text: string, metric: (typeof LONG_TERM_METRICS)[number]): MetricValue | undefined {
  const part = text.split('|')[LONG_TERM_METRICS.indexOf(metric)];
  return part ? normalizeInteger(BigInt(part)) : undefined;
}
