import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { scrapeTargetsOf } from '../../services/common/jobs.js';
import { scrapeShardOf } from '../../services/common/keys.js';
import { metricSetKey } from '../../services/common/metrics.js';
import { PipelineHarness } from '../pipeline-harness.js';

describe('pipeline under faults (Redis, simulator)', () => {
  const harnesses: PipelineHarness[] = [];
  after(async () => {
    for (const harness of harnesses) await harness.stop();
  });

  it('kubelets that hang, return 500, garbage or refuse: those nodes fail for the window, the others are all there, and the window finalizes by its deadline', async () => {
    const harness = await PipelineHarness.start({ nodes: 6, podsPerNode: 3, seed: 3 }, ['--kubelet-request-timeout=2s']);
    harnesses.push(harness);
    const [hang, error500, malformed, refuse] = harness.simulator.cluster.nodes.map((n) => n.name);
    await harness.simulator.setFault(hang!, 'hang');
    await harness.simulator.setFault(error500!, 'error500');
    await harness.simulator.setFault(malformed!, 'malformed');
    await harness.simulator.setFault(refuse!, 'refuse');
    await harness.startAll(['--window-deadline=1500ms']);
    const window = await harness.waitForWindow((s) => s.expectedNodes === 6);
    assert.equal(window.okNodes, 2);
    assert.deepEqual(window.missedNodes, [hang], 'the hanging node (2 s timeout) is still out at the 1.5 s deadline');
    assert.equal(window.finalizedBy, 'deadline');
    const deadlineMs = window.windowEndMs + 1000 + 1500;
    assert.ok(window.finalizedAtMs >= deadlineMs && window.finalizedAtMs < deadlineMs + 2000, `finalized ${window.finalizedAtMs - deadlineMs} ms after the deadline`);
    assert.match(window.failedNodes[error500!]!, /^http_error: .*HTTP 500/);
    assert.match(window.failedNodes[malformed!]!, /^bad_summary: /);
    assert.match(window.failedNodes[refuse!]!, /^(refused|truncated): /);
    const nodes = await harness.store.sets(window.windowStartMs, 'node:', ['node']);
    const healthy = harness.simulator.cluster.nodes.slice(4);
    assert.deepEqual(nodes.map((s) => s.labels.nodename).sort(), healthy.map((n) => n.name));
    for (const node of healthy) {
      for (const pod of node.pods.values()) assert.ok(await harness.store.set(metricSetKey.pod(pod.namespace, pod.name), window.windowStartMs), `${pod.name} of a healthy node is stored`);
    }
    // The hanging node's timeout arrives after the deadline: it is not counted in that window, and
    // the next window treats the node the same way (missed, the healthy nodes complete).
    await new Promise((r) => setTimeout(r, Math.max(0, deadlineMs + 1500 - Date.now())));
    const outcomes = await harness.runtime.redis.hgetall(harness.runtime.keys.windowOutcomes(window.windowStartMs));
    assert.equal(outcomes[hang!], undefined, 'a late outcome is not recorded for a finalized window');
    const next = await harness.nextWindow(window.windowStartMs, () => true);
    assert.deepEqual([next.okNodes, next.missedNodes], [2, [hang]]);
  });

  it('a summary past the parser\'s default 16 MiB but within --kubelet-max-response-bytes is processed, not refused again when it is parsed', async () => {
    const harness = await PipelineHarness.start({ nodes: 2, podsPerNode: 2, seed: 4, oversizedBytes: 17 * 1024 * 1024 }, [`--kubelet-max-response-bytes=${32 * 1024 * 1024}`]);
    harnesses.push(harness);
    const [large, normal] = harness.simulator.cluster.nodes.map((n) => n.name);
    await harness.simulator.setFault(large!, 'oversized');
    await harness.startAll();
    const window = await harness.waitForWindow((s) => s.expectedNodes === 2);
    assert.deepEqual([window.okNodes, window.failedNodes], [2, {}]);
    const nodes = await harness.store.sets(window.windowStartMs, 'node:', ['node']);
    assert.deepEqual(nodes.map((s) => s.labels.nodename).sort(), [large, normal].sort());
  });

  it('a scraper killed (SIGKILL) in the middle of a job: the job is picked up again, the window completes, no node counted twice', async () => {
    const harness = await PipelineHarness.start({ nodes: 3, podsPerNode: 3, seed: 5, slowMs: 2500 }, ['--job-lock-duration=1s', '--window-deadline=12s']);
    harnesses.push(harness);
    const slowNode = harness.simulator.cluster.nodes[0]!.name;
    await harness.simulator.setFault(slowNode, 'slow');
    await harness.startRoles(['scheduler', 'processor', 'exporter']);
    const first = harness.spawnRole('scraper');
    // Wait until the first scraper holds the slow node's job.
    let windowStartMs = 0;
    let jobId = '';
    const waitUntil = Date.now() + 20_000;
    while (windowStartMs === 0 && Date.now() < waitUntil) {
      const active = await harness.runtime.queues.scrape(scrapeShardOf(slowNode)).getActive();
      const slowJob = active.find((j) => scrapeTargetsOf(j.data).some((t) => t.nodeName === slowNode));
      windowStartMs = slowJob?.data.windowStartMs ?? 0;
      jobId = slowJob?.id ?? '';
      if (windowStartMs === 0) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(windowStartMs > 0, 'the scraper took the slow node\'s job');
    first.kill('SIGKILL');
    harness.spawnRole('scraper');
    const window = await harness.waitForWindow((s) => s.windowStartMs === windowStartMs, 40_000);
    assert.equal(window.finalizedBy, 'complete');
    assert.equal(window.okNodes, 3);
    assert.deepEqual(window.missedNodes, []);
    const outcomes = await harness.runtime.redis.hgetall(harness.runtime.keys.windowOutcomes(windowStartMs));
    assert.deepEqual(Object.keys(outcomes).sort(), harness.simulator.cluster.nodes.map((n) => n.name).sort(), 'one outcome per node');
    const job = await harness.runtime.queues.scrape(scrapeShardOf(slowNode)).getJob(jobId);
    assert.equal(await job?.getState(), 'completed');
    const nodes = await harness.store.sets(windowStartMs, 'node:', ['node']);
    assert.equal(nodes.length, 3);
  });

  it('Redis restarted between windows: every role reconnects and the next window is complete', async () => {
    const harness = await PipelineHarness.start({ nodes: 3, podsPerNode: 3, seed: 9 });
    harnesses.push(harness);
    await harness.startAll();
    const before = await harness.waitForWindow((s) => s.okNodes === 3);
    await harness.redis.restart();
    const restartedAt = Date.now();
    const next = await harness.waitForWindow((s) => s.windowStartMs > before.windowStartMs && s.windowEndMs > restartedAt && s.okNodes === 3, 40_000);
    assert.equal(next.finalizedBy, 'complete');
    const again = await harness.nextWindow(next.windowStartMs, (s) => s.okNodes === 3);
    const node = await harness.store.set(metricSetKey.node(harness.simulator.cluster.nodes[0]!.name), again.windowStartMs);
    assert.ok(node?.values['cpu/usage_rate'] !== undefined, 'rates continue after the restart');
  });
});
