import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { scrapeTargetsOf } from '../../services/common/jobs.js';
import { metricSetKey } from '../../services/common/metrics.js';
import { toApproxNumber, type MetricSet } from '../../services/common/metric-set.js';
import { openRuntime } from '../../services/common/runtime.js';
import { startScheduler } from '../../services/scheduler/main.js';
import type { TruthPod } from '../../simulator/simulator.js';
import { PipelineHarness } from '../pipeline-harness.js';

const METRICS = ['cpu/usage_rate', 'network/rx_rate', 'memory/working_set'] as const;

function assertNear(actual: number | undefined, expected: number, what: string): void {
  assert.notEqual(actual, undefined, `${what}: missing`);
  const tolerance = Math.max(Math.abs(expected) * 0.01, 1);
  assert.ok(Math.abs(actual! - expected) <= tolerance, `${what}: ${actual} is not within 1% of ${expected}`);
}

const value = (set: MetricSet | undefined, name: string): number | undefined =>
  set?.values[name] === undefined ? undefined : toApproxNumber(set.values[name]!);

describe('pipeline through real queues (Redis, simulator)', () => {
  let harness: PipelineHarness;
  const NODES = 4;

  before(async () => {
    harness = await PipelineHarness.start({ nodes: NODES, podsPerNode: 5, containersPerPod: 2, seed: 7 });
    await harness.startAll(['--scheduler-id=first']);
  });
  after(async () => harness?.stop());

  it('after two windows, every container, pod, node, namespace and the cluster match the ground truth within 1%', async () => {
    const first = await harness.waitForWindow((s) => s.okNodes === NODES);
    const second = await harness.nextWindow(first.windowStartMs, (s) => s.okNodes === NODES);
    assert.equal(second.finalizedBy, 'complete');
    assert.ok((second.processingCpuMs ?? 0) > 0, `the window says what processing its nodes cost the scrapers (${second.processingCpuMs} ms)`);
    const sets = await harness.store.sets(second.windowStartMs);
    const byKey = new Map(sets.map((s) => [s.key, s]));
    const sim = harness.simulator;
    const namespaceTotals = new Map<string, { cpu: number; rx: number; memory: number }>();
    const clusterTotal = { cpu: 0, rx: 0, memory: 0 };
    let checkedContainers = 0;
    for (const node of sim.cluster.nodes) {
      const nodeSet = byKey.get(metricSetKey.node(node.name));
      const memoryTimeMs = nodeSet?.sampleTimesMs.memory ?? 0;
      const truth = sim.truth(memoryTimeMs, node.name);
      const trueNode = truth.nodes[0]!;
      assertNear(value(nodeSet, 'cpu/usage_rate'), trueNode.cpuMilliCores, `${node.name} cpu/usage_rate`);
      assertNear(value(nodeSet, 'network/rx_rate'), trueNode.rxBytesPerSecond, `${node.name} network/rx_rate`);
      assertNear(value(nodeSet, 'memory/working_set'), trueNode.workingSetBytes, `${node.name} memory/working_set`);
      for (const pod of truth.pods) {
        const podSet = byKey.get(metricSetKey.pod(pod.namespace, pod.name));
        // Working sets move with time: compare each pod at its own memory sample time.
        const podTruth: TruthPod = sim.truth(podSet?.sampleTimesMs.memory ?? memoryTimeMs, node.name).pods.find((p) => p.uid === pod.uid)!;
        assertNear(value(podSet, 'cpu/usage_rate'), podTruth.cpuMilliCores, `${pod.name} cpu/usage_rate`);
        assertNear(value(podSet, 'network/rx_rate'), podTruth.rxBytesPerSecond, `${pod.name} network/rx_rate`);
        assertNear(value(podSet, 'memory/working_set'), podTruth.workingSetBytes, `${pod.name} memory/working_set`);
        assert.equal(podSet!.labels.pod_id, pod.uid);
        for (const container of podTruth.containers) {
          const containerSet = byKey.get(metricSetKey.podContainer(pod.namespace, pod.name, container.name));
          assertNear(value(containerSet, 'cpu/usage_rate'), container.cpuMilliCores, `${pod.name}/${container.name} cpu/usage_rate`);
          assertNear(value(containerSet, 'memory/working_set'), container.workingSetBytes, `${pod.name}/${container.name} memory/working_set`);
          assert.ok(value(containerSet, 'cpu/request')! > 0, 'containers carry their requests');
          checkedContainers++;
        }
        const totals = namespaceTotals.get(pod.namespace) ?? { cpu: 0, rx: 0, memory: 0 };
        totals.cpu += podTruth.cpuMilliCores;
        totals.rx += podTruth.rxBytesPerSecond;
        totals.memory += podTruth.workingSetBytes;
        namespaceTotals.set(pod.namespace, totals);
        clusterTotal.cpu += podTruth.cpuMilliCores;
        clusterTotal.rx += podTruth.rxBytesPerSecond;
        clusterTotal.memory += podTruth.workingSetBytes;
      }
    }
    assert.equal(checkedContainers, NODES * 5 * 2);
    for (const [namespace, totals] of namespaceTotals) {
      const set = byKey.get(metricSetKey.namespace(namespace));
      assertNear(value(set, 'cpu/usage_rate'), totals.cpu, `namespace ${namespace} cpu/usage_rate`);
      assertNear(value(set, 'network/rx_rate'), totals.rx, `namespace ${namespace} network/rx_rate`);
      assertNear(value(set, 'memory/working_set'), totals.memory, `namespace ${namespace} memory/working_set`);
    }
    const cluster = byKey.get(metricSetKey.cluster());
    assertNear(value(cluster, 'cpu/usage_rate'), clusterTotal.cpu, 'cluster cpu/usage_rate');
    assertNear(value(cluster, 'network/rx_rate'), clusterTotal.rx, 'cluster network/rx_rate');
    assertNear(value(cluster, 'memory/working_set'), clusterTotal.memory, 'cluster memory/working_set');
    const allocatable = sim.cluster.nodes.reduce((sum, n) => sum + n.allocatable.cpuMilliCores, 0);
    assert.equal(value(cluster, 'cpu/node_allocatable'), allocatable);
    // Once every sink (here the store alone) has written the window, its partials are freed and
    // its sets expire with the store's retention (140 s full, 15 min long-term), not staging's.
    const { redis, keys } = harness.runtime;
    const freedBy = Date.now() + 2000;
    while ((await redis.exists(keys.windowPartials(second.windowStartMs))) === 1 && Date.now() < freedBy) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await redis.exists(keys.windowPartials(second.windowStartMs)), 0);
    const setsTtlMs = await redis.pttl(keys.windowSets(second.windowStartMs));
    assert.ok(setsTtlMs > 120_000 && setsTtlMs <= 140_000, `full window kept 140 s (${setsTtlMs} ms left)`);
    const longTtlMs = await redis.pttl(keys.windowLong(second.windowStartMs));
    assert.ok(longTtlMs > 840_000 && longTtlMs <= 900_000, `long-term values kept 15 min (${longTtlMs} ms left)`);
  });

  it('a container restart between windows yields no rate for that window, then rates resume', async () => {
    const latest = (await harness.store.latestWindow())!;
    const pod = [...harness.simulator.cluster.pods.values()][3]!;
    const container = pod.containers[0]!;
    harness.simulator.cluster.restartContainer(pod.namespace, pod.name, container.name);
    const key = metricSetKey.podContainer(pod.namespace, pod.name, container.name);
    const afterRestart = await harness.nextWindow(latest, (s) => s.okNodes === NODES);
    const set = await harness.store.set(key, afterRestart.windowStartMs);
    assert.ok(set, 'the restarted container is still reported');
    assert.equal(set.values['cpu/usage_rate'], undefined, 'no rate across the restart');
    assert.ok(value(set, 'cpu/usage')! >= 0 && value(set, 'cpu/usage')! < 60e9, 'the counter started again from near zero');
    assert.ok((afterRestart.rateSkips.restart ?? 0) >= 1, 'the skip is counted');
    const next = await harness.nextWindow(afterRestart.windowStartMs, (s) => s.okNodes === NODES);
    const resumed = await harness.store.set(key, next.windowStartMs);
    assertNear(value(resumed, 'cpu/usage_rate'), container.cpuMilliCores, 'rate after the restart');
  });

  it('two schedulers: each window is enqueued exactly once, and the standby takes over when the leader stops', async () => {
    const get = PipelineHarness.config([...harness.args, '--scheduler-id=second']);
    const runtime = openRuntime(get, 'second-scheduler');
    harness.runtimes.push(runtime);
    const second = await startScheduler(runtime, get);
    harness.services.push(second);
    const start = (await harness.store.latestWindow())!;
    const w1 = await harness.nextWindow(start, (s) => s.okNodes === NODES);
    const w2 = await harness.nextWindow(w1.windowStartMs, (s) => s.okNodes === NODES);
    for (const windowStartMs of [w1.windowStartMs, w2.windowStartMs]) {
      const jobs = (await Promise.all(runtime.queues.scrapeShards().map((queue) => queue.getJobs(['completed', 'active', 'waiting', 'delayed'])))).flat().filter((j) => j.data.windowStartMs === windowStartMs);
      const scraped = jobs.flatMap((j) => scrapeTargetsOf(j.data).map((t) => t.nodeName)).sort();
      assert.deepEqual(scraped, harness.simulator.cluster.nodes.map((n) => n.name).sort(), `every node in exactly one scrape job for window ${windowStartMs}`);
    }
    assert.equal(second.scheduler.isLeader, false, 'the second replica stands by while the first holds the lease');
    // Stop the leader (the first `all` scheduler); the standby must enqueue the next windows.
    const firstScheduler = harness.services[1]!;
    await firstScheduler.stop();
    const stoppedAt = Date.now();
    const taken = await harness.nextWindow(w2.windowStartMs, (s) => s.okNodes === NODES && s.windowEndMs > stoppedAt);
    assert.ok(second.scheduler.isLeader, 'the standby holds the lease');
    assert.ok(taken.windowEndMs - stoppedAt <= 2 * 5000 + 1000, 'taken over within about one window');
  });
});
