/**
 * Rate calculator (Heapster's rate_calculator, as a pure function).
 *
 * For every cumulative metric in the catalogue that has a `_rate`, the rate between the previous
 * and the current sample of one metric set is
 *   (current - previous) / (sample time difference in seconds) * perSecondFactor
 * using the sample clock of the metric's own kubelet block (cpu time for cpu, network time for
 * network). `cpu/usage_rate` is therefore 1000 * d(cpu ns) / d(t ns), in millicores, rounded to an
 * integer as Heapster's int64 type says.
 *
 * No rate is produced, and the reason is counted, when:
 * - `restart`: the set's start time changed (a restarted container, a recreated pod);
 * - `counter_decrease`: the counter went down without a restart being visible;
 * - `no_time_advance`: the sample clock did not move forward;
 * - `missing_previous`: the previous sample lacks the counter (first sample gives no rate).
 */
import { RATE_METRICS, type MetricDefinition } from '../common/metrics.js';
import {
  compareValues,
  sameLabels,
  sampleTimeMs,
  subtractValues,
  toApproxNumber,
  type LabeledValue,
  type MetricSet,
  type MetricValue,
} from '../common/metric-set.js';

export type RateSkipReason = 'restart' | 'counter_decrease' | 'no_time_advance' | 'missing_previous';

export interface RateResult {
  /** Unlabeled rate values by rate metric name. */
  readonly values: Record<string, number>;
  readonly labeled: LabeledValue[];
  /** Rates not produced, with why; the processor counts them. */
  readonly skipped: { metric: string; reason: RateSkipReason }[];
}

/** Rates between two samples of the same metric set. Does not modify either set. */
export function computeRates(previous: MetricSet, current: MetricSet): RateResult {
  const result: RateResult = { values: {}, labeled: [], skipped: [] };
  const restarted =
    previous.createTimeMs !== undefined && current.createTimeMs !== undefined && previous.createTimeMs !== current.createTimeMs;
  for (const rate of RATE_METRICS) {
    const source = rate.rateOf!.source;
    const previousMs = sampleTimeMs(previous, rate.clock);
    const currentMs = sampleTimeMs(current, rate.clock);
    if (rate.valueLabels.length === 0) {
      const now = current.values[source];
      if (now === undefined) continue;
      const outcome = rateBetween(rate, previous.values[source], now, previousMs, currentMs, restarted);
      if (typeof outcome === 'number') result.values[rate.name] = outcome;
      else result.skipped.push({ metric: rate.name, reason: outcome });
      continue;
    }
    for (const now of current.labeled) {
      if (now.name !== source) continue;
      const before = previous.labeled.find((v) => v.name === source && sameLabels(v.labels, now.labels));
      const outcome = rateBetween(rate, before?.value, now.value, previousMs, currentMs, restarted);
      if (typeof outcome === 'number') result.labeled.push({ name: rate.name, labels: now.labels, value: outcome });
      else result.skipped.push({ metric: rate.name, reason: outcome });
    }
  }
  return result;
}

function rateBetween(
  rate: MetricDefinition,
  before: MetricValue | undefined,
  now: MetricValue,
  previousMs: number,
  currentMs: number,
  restarted: boolean,
): number | RateSkipReason {
  if (before === undefined) return 'missing_previous';
  if (restarted) return 'restart';
  if (compareValues(now, before) < 0) return 'counter_decrease';
  if (!(currentMs > previousMs)) return 'no_time_advance';
  const perSecond = (toApproxNumber(subtractValues(now, before)) * 1000) / (currentMs - previousMs);
  const value = perSecond * rate.rateOf!.perSecondFactor;
  return rate.valueType === 'int64' ? Math.round(value) : value;
}

/** Adds the rates between `previous` and `current` to `current` (in place) and returns what was skipped. */
export function applyRates(previous: MetricSet, current: MetricSet): RateResult {
  const result = computeRates(previous, current);
  Object.assign(current.values, result.values);
  current.labeled.push(...result.labeled);
  return result;
}
