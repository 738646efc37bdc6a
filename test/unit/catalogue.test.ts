import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { familyAndField, METRICS, METRICS_BY_NAME, RATE_METRICS, RATE_OF_CUMULATIVE, metricSetKey } from '../../services/common/metrics.js';

// Every metric name in Heapster's docs/storage-schema.md (plus the ones its metrics.go added later).
const HEAPSTER_SCHEMA = [
  'cpu/limit', 'cpu/node_capacity', 'cpu/node_allocatable', 'cpu/node_reservation', 'cpu/node_utilization', 'cpu/request',
  'cpu/usage', 'cpu/usage_rate', 'filesystem/usage', 'filesystem/limit', 'filesystem/available', 'filesystem/inodes',
  'filesystem/inodes_free', 'disk/io_read_bytes', 'disk/io_write_bytes', 'disk/io_read_bytes_rate', 'disk/io_write_bytes_rate',
  'memory/limit', 'memory/major_page_faults', 'memory/major_page_faults_rate', 'memory/node_capacity', 'memory/node_allocatable',
  'memory/node_reservation', 'memory/node_utilization', 'memory/page_faults', 'memory/page_faults_rate', 'memory/request',
  'memory/usage', 'memory/cache', 'memory/rss', 'memory/working_set', 'accelerator/memory_total', 'accelerator/memory_used',
  'accelerator/duty_cycle', 'network/rx', 'network/rx_errors', 'network/rx_errors_rate', 'network/rx_rate', 'network/tx',
  'network/tx_errors', 'network/tx_errors_rate', 'network/tx_rate', 'uptime', 'restart_count',
  'ephemeral_storage/usage', 'ephemeral_storage/request', 'ephemeral_storage/limit', 'ephemeral_storage/node_capacity',
  'ephemeral_storage/node_allocatable', 'ephemeral_storage/node_reservation', 'ephemeral_storage/node_utilization',
];

describe('metric catalogue', () => {
  it('has every metric of Heapster storage schema, once', () => {
    for (const name of HEAPSTER_SCHEMA) assert.ok(METRICS_BY_NAME.has(name), `missing ${name}`);
    assert.equal(METRICS_BY_NAME.size, METRICS.length, 'a metric is defined twice');
  });

  it('gives every metric a unit, a type, a value type and the sets that carry it', () => {
    for (const m of METRICS) {
      assert.ok(m.unit && m.kind && m.valueType && m.description, m.name);
      assert.ok(m.setTypes.length > 0, `${m.name} is carried by no set type`);
    }
  });

  it('derives a gauge _rate from every cumulative except uptime and restart_count', () => {
    const cumulatives = METRICS.filter((m) => m.kind === 'cumulative').map((m) => m.name);
    for (const name of cumulatives) {
      if (name === 'uptime' || name === 'restart_count') continue;
      const rate = RATE_OF_CUMULATIVE.get(name);
      assert.ok(rate, `${name} has no rate`);
      assert.equal(rate.name, `${name}_rate`);
      assert.equal(rate.kind, 'gauge');
    }
    assert.equal(RATE_METRICS.length, cumulatives.length - 2);
  });

  it('keeps network off containers and cpu/usage_rate in millicores', () => {
    assert.deepEqual([...METRICS_BY_NAME.get('network/rx')!.setTypes], ['pod', 'node']);
    const cpuRate = METRICS_BY_NAME.get('cpu/usage_rate')!;
    assert.equal(cpuRate.unit, 'millicores');
    // 1 CPU-second per second = 1e9 ns/s -> 1000 millicores
    assert.equal(1e9 * cpuRate.rateOf!.perSecondFactor, 1000);
  });

  it('splits names the way Heapster withfields=true does', () => {
    assert.deepEqual(familyAndField('cpu/usage_rate'), { family: 'cpu', field: 'usage_rate' });
    assert.deepEqual(familyAndField('uptime'), { family: 'uptime', field: 'value' });
  });

  it('builds Heapster metric-set keys', () => {
    assert.equal(metricSetKey.podContainer('ns', 'p', 'c'), 'namespace:ns/pod:p/container:c');
    assert.equal(metricSetKey.nodeContainer('n1', 'kubelet'), 'node:n1/container:kubelet');
    assert.equal(metricSetKey.cluster(), 'cluster');
  });
});
