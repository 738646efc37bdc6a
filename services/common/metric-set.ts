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

/**
 * How many values a set's values object holds in the object itself (V8's in-object properties).
 * The roll-up, the rates and decoding add values by computed name (`values[name] = ...`). An
 * object V8 makes for `{}` has room for 4; past that, a store by computed name keeps at most 12
 * more in a side array before V8 turns the object into a dictionary. A pod's set ends up with ~26
 * values and the node's ~37, so theirs were dictionaries, and every write, read, for-in and copy
 * of their values took a hash lookup. Objects made by `newMetricValues` have room
 * for this many, so a set's values stay a plain (fast) object.
 */
const VALUES_IN_OBJECT = 48;

/**
 * The constructor behind `newMetricValues`. V8 sizes a constructor's objects by the `this.x =`
 * assignments in its body, run or not, so the assignments below (never run) give every object
 * room for VALUES_IN_OBJECT values. Its prototype is Object.prototype, so its objects are plain
 * objects to everything else (deepStrictEqual, JSON, for-in).
 */
const RoomyValues = function (this: Record<string, MetricValue>, reserve: boolean): void {
  if (reserve) {
    this.r0 = 0; this.r1 = 0; this.r2 = 0; this.r3 = 0; this.r4 = 0; this.r5 = 0; this.r6 = 0; this.r7 = 0;
    this.r8 = 0; this.r9 = 0; this.r10 = 0; this.r11 = 0; this.r12 = 0; this.r13 = 0; this.r14 = 0; this.r15 = 0;
    this.r16 = 0; this.r17 = 0; this.r18 = 0; this.r19 = 0; this.r20 = 0; this.r21 = 0; this.r22 = 0; this.r23 = 0;
    this.r24 = 0; this.r25 = 0; this.r26 = 0; this.r27 = 0; this.r28 = 0; this.r29 = 0; this.r30 = 0; this.r31 = 0;
    this.r32 = 0; this.r33 = 0; this.r34 = 0; this.r35 = 0; this.r36 = 0; this.r37 = 0; this.r38 = 0; this.r39 = 0;
    this.r40 = 0; this.r41 = 0; this.r42 = 0; this.r43 = 0; this.r44 = 0; this.r45 = 0; this.r46 = 0; this.r47 = 0;
  }
} as unknown as { new (reserve: boolean): Record<string, MetricValue>; prototype: object };
RoomyValues.prototype = Object.prototype;
// V8 shrinks a constructor's objects to the room its first few objects used; these use it all.
for (let i = 0; i < 8; i++) {
  const warm = new RoomyValues(false);
  for (let v = 0; v < VALUES_IN_OBJECT; v++) warm[`r${v}`] = 0;
}

/** An empty values object for a metric set (a plain object with room for a set's values; see VALUES_IN_OBJECT). */
export const newMetricValues = (): Record<string, MetricValue> => new RoomyValues(false);

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
