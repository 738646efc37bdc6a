/**
 * The normalized data model every stage passes along: metric sets as Heapster defined them
 * (metrics/core/types.go), with exact integers.
 *
 * Values above Number.MAX_SAFE_INTEGER (2^53 - 1) are kept EXACT as `bigint`; values at or below
 * it are plain `number`s. Nothing is rounded or dropped: an int64 metric is a `number` while it is
 * safe and a `bigint` past that, and the helpers below do arithmetic on either. JSON output prints
 * a `bigint` as a decimal string (see `jsonSafeValue`).
 */
import type { MetricSetType, SampleClock } from './metrics.js';

export type MetricValue = number | bigint;
export type Labels = Record<string, string>;

/** A value of a metric that can have several values in one set (filesystems, accelerators). */
export interface LabeledValue {
  readonly name: string;
  readonly labels: Labels;
  readonly value: MetricValue;
}

export interface MetricSet {
  /** Heapster's metric-set key, e.g. `namespace:default/pod:web-1/container:nginx`. */
  readonly key: string;
  readonly type: MetricSetType;
  /** Heapster labels, including `type`. */
  readonly labels: Labels;
  /** When the container, pod or node started (ms since epoch); absent when the kubelet did not say. */
  createTimeMs?: number;
  /** The set's sample time (ms since epoch): its cpu, memory or network block time, in that order. */
  scrapeTimeMs: number;
  /** The time each kubelet block was sampled at (ms since epoch); read through `sampleTimeMs`. */
  readonly sampleTimesMs: Partial<Record<Exclude<SampleClock, 'scrape'>, number>>;
  /** Unlabeled values by metric name. */
  readonly values: Record<string, MetricValue>;
  readonly labeled: LabeledValue[];
}

/** Everything one scrape of one node's kubelet turned into. */
export interface NodeBatch {
  readonly nodeName: string;
  /** Time the summary was received (ms since epoch). */
  readonly receivedAtMs: number;
  readonly metricSets: MetricSet[];
  /** Things the parser passed over on purpose (e.g. an older duplicate container), for self-metrics. */
  readonly notes: string[];
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A bigint as a number when that is exact, else the bigint itself. */
export function normalizeInteger(value: bigint): MetricValue {
  return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value;
}

export function addValues(a: MetricValue, b: MetricValue): MetricValue {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    if (Number.isSafeInteger(sum) || !Number.isInteger(a) || !Number.isInteger(b)) return sum;
    return normalizeInteger(BigInt(a) + BigInt(b));
  }
  return normalizeInteger(toBigInt(a) + toBigInt(b));
}

/** a - b, exact; the difference of two counters is small, so this is normally a number. */
export function subtractValues(a: MetricValue, b: MetricValue): MetricValue {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return normalizeInteger(toBigInt(a) - toBigInt(b));
}

export function compareValues(a: MetricValue, b: MetricValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  const x = toBigInt(a);
  const y = toBigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A float approximation, for display and ratios only. */
export function toApproxNumber(value: MetricValue): number {
  return typeof value === 'number' ? value : Number(value);
}

function toBigInt(value: MetricValue): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isInteger(value)) throw new RangeError(`exact arithmetic needs integers, got ${value}`);
  return BigInt(value);
}

/** A value for JSON: numbers as they are, a bigint as its decimal string. */
export function jsonSafeValue(value: MetricValue): number | string {
  return typeof value === 'bigint' ? value.toString() : value;
}

export function sameLabels(a: Labels, b: Labels): boolean {
  if (a === b) return true;
  // Counted with for-in rather than compared as Object.keys arrays: this runs for every labeled
  // value a set is encoded or given rates with, and for-in over a small label object allocates nothing.
  let count = 0;
  for (const name in a) {
    if (a[name] !== b[name]) return false;
    count++;
  }
  for (const _name in b) count--;
  return count === 0;
}

/** When a metric of `clock` was sampled in `set`: its block's own time, else the set's sample time. */
export function sampleTimeMs(set: MetricSet, clock: SampleClock): number {
  return (clock === 'scrape' ? undefined : set.sampleTimesMs[clock]) ?? set.scrapeTimeMs;
}
