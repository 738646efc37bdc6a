import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { metricSetKey } from '../../services/common/metrics.js';
import { toApproxNumber } from '../../services/common/metric-set.js';
import { LocalInflux } from '../../simulator/influx-server.js';
import { PipelineHarness } from '../pipeline-harness.js';
import { scratchDir } from '../helpers.js';

const NODES = 3;

describe('InfluxDB sink (real InfluxDB 1.x, both Heapster schemas)', () => {
  let influx: LocalInflux;
  let harness: PipelineHarness;
  before(async () => {
    influx = await LocalInflux.start(join(scratchDir('influx'), 'influx'));
    harness = await PipelineHarness.start({ nodes: NODES, podsPerNode: 3, containersPerPod: 2, seed: 11 }, [
      `--sink=influxdb:${influx.url}?db=k8s&cluster_name=sim`,
      `--sink=influxdb:${influx.url}?db=k8s_fields&withfields=true`,
      '--sink-retry-base=200ms', '--sink-retry-max=2s', '--sink-retry-attempts=200',
    ]);
    await harness.startAll();
  });
  after(async () => {
    await harness?.stop();
    await influx?.stop();
  });

  it('writes what the store holds, in both schemas; Heapster dashboard queries return the expected series', async () => {
    const first = await harness.waitForWindow((s) => s.okNodes === NODES);
    const window = await harness.nextWindow(first.windowStartMs, (s) => s.okNodes === NODES);
    await harness.waitForExport('influxdb', window.windowStartMs);
    await harness.waitForExport('influxdb-2', window.windowStartMs);
    const nodes = await harness.store.sets(window.windowStartMs, 'node:', ['node']);
    const at = `time = ${window.windowEndMs}ms`;
    // Default schema: a measurement per metric, field `value`, labels as tags.
    const perNode = await influx.query('k8s', `SELECT "value" FROM "cpu/usage_rate" WHERE "type" = 'node' AND ${at} GROUP BY "nodename"`);
    assert.equal(perNode.length, NODES);
    for (const node of nodes) {
      const series = perNode.find((s) => s.tags?.nodename === node.labels.nodename)!;
      assert.equal(series.values[0]![1], toApproxNumber(node.values['cpu/usage_rate']!));
    }
    // withfields: a measurement per family, the rest of the name as the field.
    const fields = await influx.query('k8s_fields', `SELECT "usage_rate", "working_set" FROM "cpu", "memory" WHERE "type" = 'node' AND ${at} GROUP BY "nodename"`);
    const cpuSeries = fields.filter((s) => s.name === 'cpu');
    assert.equal(cpuSeries.length, NODES);
    for (const node of nodes) {
      const cpu = cpuSeries.find((s) => s.tags?.nodename === node.labels.nodename)!;
      assert.equal(cpu.values[0]![cpu.columns.indexOf('usage_rate')], toApproxNumber(node.values['cpu/usage_rate']!));
      const memory = fields.find((s) => s.name === 'memory' && s.tags?.nodename === node.labels.nodename)!;
      assert.equal(memory.values[0]![memory.columns.indexOf('working_set')], toApproxNumber(node.values['memory/working_set']!));
    }
    // Heapster's Grafana "Cluster" dashboard: node CPU usage rate summed by node over time.
    const dashboard = await influx.query('k8s', `SELECT sum("value") FROM "cpu/usage_rate" WHERE "type" = 'node' AND time > now() - 10m GROUP BY time(5s), "nodename" fill(none)`);
    assert.deepEqual(dashboard.map((s) => s.tags?.nodename).sort(), nodes.map((n) => n.labels.nodename).sort());
    // Heapster's "Pods" dashboard: memory per container of one pod.
    const pod = [...harness.simulator.cluster.pods.values()][0]!;
    const memory = await influx.query('k8s', `SELECT mean("value") FROM "memory/usage" WHERE "type" = 'pod_container' AND "namespace_name" = '${pod.namespace}' AND "pod_name" = '${pod.name}' AND ${at} GROUP BY time(5s), "container_name" fill(none)`);
    assert.deepEqual(memory.map((s) => s.tags?.container_name).sort(), pod.containers.map((c) => c.name).sort());
    for (const container of pod.containers) {
      const set = await harness.store.set(metricSetKey.podContainer(pod.namespace, pod.name, container.name), window.windowStartMs);
      const series = memory.find((s) => s.tags?.container_name === container.name)!;
      assert.equal(series.values[0]![1], toApproxNumber(set!.values['memory/usage']!));
    }
    // Tags: Heapster's exclusions and cluster_name.
    const keys = (await influx.query('k8s', 'SHOW TAG KEYS FROM "cpu/usage_rate"'))[0]!.values.map((v) => v[0]);
    assert.ok(keys.includes('cluster_name') && keys.includes('pod_name') && keys.includes('labels'));
    assert.ok(!keys.includes('pod_id') && !keys.includes('hostname') && !keys.includes('namespace_id'));
    const clusterTag = await influx.query('k8s', `SHOW TAG VALUES FROM "cpu/usage_rate" WITH KEY = "cluster_name"`);
    assert.deepEqual(clusterTag[0]!.values.map((v) => v[1]), ['sim']);
  });

  it('InfluxDB stopped for three windows and started again: every window arrives, none twice', async () => {
    const before = (await harness.store.latestWindow())!;
    await influx.stop();
    const stoppedAt = Date.now();
    // Three windows finalize while InfluxDB is down.
    let last = before;
    for (let i = 0; i < 3; i++) last = (await harness.nextWindow(last, (s) => s.okNodes === NODES)).windowStartMs;
    assert.ok(Date.now() - stoppedAt >= 10_000);
    await influx.restart();
    const next = await harness.nextWindow(last, (s) => s.okNodes === NODES);
    await harness.waitForExport('influxdb', next.windowStartMs, 60_000);
    const windows = await harness.store.windows(before, next.windowStartMs);
    for (const w of windows) await harness.waitForExport('influxdb', w, 60_000);
    const ends: number[] = [];
    for (const w of windows) ends.push((await harness.store.summary(w))!.windowEndMs);
    const points = await influx.query('k8s', `SELECT "value" FROM "cpu/usage_rate" WHERE "type" = 'cluster' AND time >= ${ends[0]}ms AND time <= ${ends[ends.length - 1]}ms`);
    const times = points[0]!.values.map((v) => v[0] as number);
    assert.deepEqual(times, ends, 'one cluster point per window: none missing, none twice');
    const counts = await influx.query('k8s', `SELECT count("value") FROM "cpu/usage_rate" WHERE "type" = 'node' AND time >= ${ends[0]}ms AND time <= ${ends[ends.length - 1]}ms GROUP BY "nodename"`);
    for (const series of counts) assert.equal(series.values[0]![1], ends.length, `${series.tags?.nodename}: one point per window`);
  });
});
