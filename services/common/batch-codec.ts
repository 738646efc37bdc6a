/**
 * Metric sets as they travel between stages and live in Redis: JSON, with a bigint value
 * (above 2^53) written as its decimal string. Only `values` and `labeled[].value` can hold
 * one, and no metric value is ever otherwise a string, so decoding is exact and unambiguous.
 */
import { normalizeInteger, type MetricSet, type MetricValue } from './metric-set.js';

const bigintAsString = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

export function encodeMetricSets(sets: readonly MetricSet[]): string {
  return JSON.stringify(sets, bigintAsString);
}

export function encodeMetricSet(set: MetricSet): string {
  return JSON.stringify(set, bigintAsString);
}

const revive = (value: MetricValue | string): MetricValue => (typeof value === 'string' ? normalizeInteger(BigInt(value)) : value);

/** Restores bigints in a set parsed from JSON (in place) and returns it. */
export function reviveMetricSet(set: MetricSet): MetricSet {
  for (const [name, value] of Object.entries(set.values)) {
    if (typeof value === 'string') set.values[name] = revive(value);
  }
  for (const labeled of set.labeled) {
    if (typeof labeled.value === 'string') (labeled as { value: MetricValue }).value = revive(labeled.value);
  }
  return set;
}

export function decodeMetricSets(text: string): MetricSet[] {
  const sets = JSON.parse(text) as MetricSet[];
  for (const set of sets) reviveMetricSet(set);
  return sets;
}

export function decodeMetricSet(text: string): MetricSet {
  return reviveMetricSet(JSON.parse(text) as MetricSet);
}
