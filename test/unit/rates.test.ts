import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetricSet } from '../../services/common/metric-set.js';
import { computeRates } from '../../services/processor/rates.js';

function sample(overrides: Partial<MetricSet> & { values: MetricSet['values'] }): MetricSet {
  return {
    key: 'namespace:ns/pod:p/container:c',
    type: 'pod_container',
    labels: { type: 'pod_container' },
    createTimeMs: 1_000_000,
    scrapeTimeMs: 2_000_000,
    sampleTimesMs: { cpu: 2_000_000, memory: 2_000_000, network: 2_000_000 },
    labeled: [],
    ...overrides,
  };
}

describe('rate calculator', () => {
  it('cpu/usage_rate is 1000 * d(cpu ns) / d(t ns), in millicores', () => {
    const before = sample({ values: { 'cpu/usage': 5_000_000_000 } });
    // 15 s later, 3.75 CPU-seconds more: 250 millicores
    const after = sample({ values: { 'cpu/usage': 8_750_000_000 }, scrapeTimeMs: 2_015_000, sampleTimesMs: { cpu: 2_015_000 } });
    assert.deepEqual(computeRates(before, after).values, { 'cpu/usage_rate': 250 });
  });

  it('uses each block its own clock (network time for network rates)', () => {
    const before = sample({ type: 'pod', values: { 'network/rx': 1000 }, sampleTimesMs: { cpu: 2_000_000, network: 1_990_000 } });
    const after = sample({ type: 'pod', values: { 'network/rx': 31_000 }, sampleTimesMs: { cpu: 2_060_000, network: 2_020_000 } });
    assert.equal(computeRates(before, after).values['network/rx_rate'], 1000);
  });

  it('falls back to the set sample time when a block carries no time of its own', () => {
    const before = sample({ type: 'pod', values: { 'network/tx': 0 }, scrapeTimeMs: 2_000_000, sampleTimesMs: {} });
    const after = sample({ type: 'pod', values: { 'network/tx': 50_000 }, scrapeTimeMs: 2_010_000, sampleTimesMs: { cpu: 2_005_000 } });
    assert.equal(computeRates(before, after).values['network/tx_rate'], 5000);
  });

  it('gives no rate across a restart (start time changed)', () => {
    const before = sample({ values: { 'cpu/usage': 9_000_000_000 } });
    const after = sample({ values: { 'cpu/usage': 9_500_000_000 }, createTimeMs: 2_010_000, sampleTimesMs: { cpu: 2_060_000 } });
    const result = computeRates(before, after);
    assert.deepEqual(result.values, {});
    assert.deepEqual(result.skipped, [{ metric: 'cpu/usage_rate', reason: 'restart' }]);
  });

  it('gives no rate when a counter went down or time did not advance', () => {
    const before = sample({ values: { 'cpu/usage': 9_000_000_000 } });
    const lower = sample({ values: { 'cpu/usage': 1 }, sampleTimesMs: { cpu: 2_060_000 } });
    assert.deepEqual(computeRates(before, lower).skipped, [{ metric: 'cpu/usage_rate', reason: 'counter_decrease' }]);
    const sameTime = sample({ values: { 'cpu/usage': 9_100_000_000 } });
    assert.deepEqual(computeRates(before, sameTime).skipped, [{ metric: 'cpu/usage_rate', reason: 'no_time_advance' }]);
  });

  it('first sample of a counter gives no rate', () => {
    const before = sample({ values: {} });
    const after = sample({ values: { 'memory/page_faults': 10 }, sampleTimesMs: { memory: 2_060_000 } });
    assert.deepEqual(computeRates(before, after).skipped, [{ metric: 'memory/page_faults_rate', reason: 'missing_previous' }]);
  });

  it('works across 2^53 with exact bigint counters', () => {
    const before = sample({ type: 'node', values: { 'cpu/usage': 9_007_199_254_740_000n } });
    const after = sample({ type: 'node', values: { 'cpu/usage': 9_007_199_254_740_000n + 60_000_000_000n }, sampleTimesMs: { cpu: 2_060_000 } });
    assert.equal(computeRates(before, after).values['cpu/usage_rate'], 1000);
  });
});
