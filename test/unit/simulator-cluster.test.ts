import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SimulatedCluster, type Change } from '../../simulator/cluster.js';

describe('simulated cluster over time', () => {
  it('restarts containers and replaces pods at the configured rates', () => {
    let nowMs = Date.UTC(2026, 0, 1);
    const cluster = new SimulatedCluster({ nodes: 3, podsPerNode: 10, containersPerPod: 2, seed: 3, restartsPerMinute: 60, churnPerMinute: 30, nowMs: () => nowMs });
    const podCount = cluster.pods.size;
    const changes: Change[] = [];
    cluster.onChange((c) => changes.push(c));
    nowMs += 10_000;
    cluster.tick();
    const deleted = changes.filter((c) => c.kind === 'pods' && c.type === 'DELETED').length;
    assert.equal(deleted, 5, '30 per minute for 10 s');
    assert.equal(cluster.pods.size, podCount, 'each deleted pod is replaced');
    const restarts = changes.filter((c) => c.kind === 'pods' && c.type === 'MODIFIED').length;
    assert.equal(restarts, 10, '60 per minute for 10 s');
    assert.ok(changes.some((c) => c.kind === 'events' && (c.object as { reason: string }).reason === 'BackOff'));
    for (const node of cluster.nodes) assert.equal(node.pods.size, 10);
  });

  it('node counters never go down when pods come and go', () => {
    let nowMs = Date.UTC(2026, 0, 1);
    const cluster = new SimulatedCluster({ nodes: 1, podsPerNode: 5, containersPerPod: 1, seed: 9, restartsPerMinute: 0, churnPerMinute: 120, nowMs: () => nowMs });
    const node = cluster.nodes[0]!;
    let previous = node.cpu.valueAt(nowMs);
    for (let i = 0; i < 20; i++) {
      nowMs += 1000;
      cluster.tick();
      const value = node.cpu.valueAt(nowMs);
      assert.ok(value > previous, `cpu counter went from ${previous} to ${value}`);
      previous = value;
    }
  });
});
