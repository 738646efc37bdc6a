import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { NodeMeta, PodMeta } from '../../services/common/jobs.js';
import { redisKeys } from '../../services/common/keys.js';
import { ClusterMetadata, PUBLISH_BATCH } from '../../services/scheduler/discovery.js';
import { podMeta, type NodeLike } from '../../services/scheduler/metadata.js';
import { useLocalRedis } from '../helpers.js';

const keys = redisKeys('publish-test');
const ADDRESSING = { preferredAddressTypes: ['InternalIP'], useNodeStatusPort: false, port: 10250, https: true };
const TTL_MS = 60_000;

const node = (name: string, index: number): NodeLike => ({
  metadata: { name, uid: `uid-${name}` },
  status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: `10.0.${index >> 8}.${index & 255}` }] },
});

/** A cluster of `nodes` nodes with two pods each. */
function clusterMetadata(nodes: number): ClusterMetadata {
  const metadata = new ClusterMetadata(ADDRESSING);
  metadata.upsertNamespace({ name: 'default', uid: 'ns-uid' });
  for (let i = 0; i < nodes; i++) {
    const name = `node-${i}`;
    metadata.upsertNode(node(name, i));
    for (const pod of ['a', 'b']) {
      metadata.upsertPod(podMeta({ metadata: { namespace: 'default', name: `${name}-${pod}`, uid: `${name}-${pod}-uid` }, spec: { nodeName: name, containers: [{ name: 'c' }] }, status: { phase: 'Running' } }));
    }
  }
  return metadata;
}

describe('metadata publishing (real Redis)', () => {
  let redis: Redis;
  useLocalRedis('publish', (_server, client) => (redis = client));

  it('writes every node, namespace and pod list, over several pipelines', async () => {
    await redis.flushall();
    const nodes = 2 * PUBLISH_BATCH + 7;
    const metadata = clusterMetadata(nodes);
    const sent: number[] = [];
    const counting = Object.create(redis) as Redis;
    counting.pipeline = () => {
      const pipeline = redis.pipeline();
      const exec = pipeline.exec.bind(pipeline);
      pipeline.exec = () => (sent.push(pipeline.length), exec());
      return pipeline;
    };
    // Nodes, the namespace, pod lists, and the pods' bindings PUBLISH_BATCH to a write.
    const writes = nodes + 1 + nodes + Math.ceil((2 * nodes) / PUBLISH_BATCH);
    assert.equal(await metadata.publish(counting, keys, TTL_MS), writes);
    // The last pipeline also sets the expiry of the three hashes written.
    assert.deepEqual(sent, [PUBLISH_BATCH, PUBLISH_BATCH, PUBLISH_BATCH, PUBLISH_BATCH, writes - 4 * PUBLISH_BATCH + 3], 'commands per pipeline');
    assert.equal(await redis.hlen(keys.nodeMeta), nodes);
    assert.equal(JSON.parse((await redis.hget(keys.nodeMeta, `node-${nodes - 1}`))!).uid, `uid-node-${nodes - 1}`);
    assert.deepEqual(JSON.parse((await redis.hget(keys.namespaceMeta, 'default'))!), { name: 'default', uid: 'ns-uid' });
    assert.equal(await redis.hlen(keys.podNodes), 2 * nodes, 'every pod\'s binding');
    assert.equal(await redis.hget(keys.podNodes, `default/node-${nodes - 1}-b`), `node-${nodes - 1}`);
    const podLists = await redis.mget(Array.from({ length: nodes }, (_, i) => keys.podsOnNode(`node-${i}`)));
    podLists.forEach((list, i) => {
      assert.deepEqual((JSON.parse(list ?? '[]') as PodMeta[]).map((p) => p.name), [`node-${i}-a`, `node-${i}-b`], `pods of node-${i}`);
    });
    for (const key of [keys.podsOnNode('node-0'), keys.nodeMeta, keys.namespaceMeta, keys.podNodes]) {
      const ttl = await redis.pttl(key);
      assert.ok(ttl > 0 && ttl <= TTL_MS, `${key} expires (pttl ${ttl})`);
    }
    assert.equal(await metadata.publish(redis, keys, TTL_MS), 0, 'nothing changed since');
  });

  it('renews the expiry of the pod lists without writing them again, and writes again only those Redis lost', async () => {
    await redis.flushall();
    const nodes = PUBLISH_BATCH + 3;
    const metadata = clusterMetadata(nodes);
    await metadata.publish(redis, keys, TTL_MS);
    for (let i = 0; i < nodes; i++) await redis.pexpire(keys.podsOnNode(`node-${i}`), 5_000);
    await redis.del(keys.podsOnNode('node-1'), keys.podsOnNode(`node-${nodes - 1}`));
    assert.equal(await metadata.renewExpiry(redis, keys, TTL_MS), 2, 'the two lists Redis lost');
    const renewed = await redis.pttl(keys.podsOnNode('node-0'));
    assert.ok(renewed > 5_000 && renewed <= TTL_MS, `a kept list's expiry is renewed (pttl ${renewed})`);
    assert.equal(await redis.get(keys.podsOnNode('node-1')), null, 'renewing writes no list');
    assert.equal(await metadata.publish(redis, keys, TTL_MS), 2, 'the next publish writes the lost lists, and only them');
    for (const name of ['node-1', `node-${nodes - 1}`]) {
      assert.deepEqual((JSON.parse((await redis.get(keys.podsOnNode(name)))!) as PodMeta[]).map((p) => p.name), [`${name}-a`, `${name}-b`]);
    }
  });

  it('renews the expiry of the nodes\', namespaces\' and bindings\' hashes, and writes a lost hash again whole', async () => {
    await redis.flushall();
    const metadata = clusterMetadata(3);
    await metadata.publish(redis, keys, TTL_MS);
    for (const key of [keys.nodeMeta, keys.namespaceMeta, keys.podNodes]) await redis.pexpire(key, 5_000);
    assert.equal(await metadata.renewExpiry(redis, keys, TTL_MS), 0, 'nothing lost');
    for (const key of [keys.nodeMeta, keys.namespaceMeta, keys.podNodes]) {
      const ttl = await redis.pttl(key);
      assert.ok(ttl > 5_000 && ttl <= TTL_MS, `${key}'s expiry is renewed (pttl ${ttl})`);
    }
    await redis.del(keys.nodeMeta, keys.podNodes);
    assert.equal(await metadata.renewExpiry(redis, keys, TTL_MS), 2, 'the two hashes Redis lost');
    assert.equal(await metadata.publish(redis, keys, TTL_MS), 3 + 1, 'every node, and the bindings in one write');
    assert.deepEqual(Object.keys(await redis.hgetall(keys.nodeMeta)).sort(), ['node-0', 'node-1', 'node-2']);
    assert.equal(await redis.hlen(keys.podNodes), 6);
    assert.ok((await redis.pttl(keys.podNodes)) > 0, 'the hash written again expires too');
  });

  it('takes a hash not written yet as nothing lost: at a start, or with nothing to write', async () => {
    await redis.flushall();
    const starting = clusterMetadata(2);
    assert.equal(await starting.renewExpiry(redis, keys, TTL_MS), 0, 'a scheduler starting on an empty Redis, before its first publish');
    const metadata = new ClusterMetadata(ADDRESSING);
    metadata.upsertNode(node('node-0', 0));
    await metadata.publish(redis, keys, TTL_MS);
    assert.equal(await metadata.renewExpiry(redis, keys, TTL_MS), 0, 'no namespace, no pod: their hashes were never written');
    assert.equal(await metadata.publish(redis, keys, TTL_MS), 0);
  });

  it('removes the pod list of a node whose pods are all gone (a deleted node), and renews it no more', async () => {
    await redis.flushall();
    const metadata = clusterMetadata(2);
    await metadata.publish(redis, keys, TTL_MS);
    metadata.deleteNode('node-0');
    for (const pod of ['a', 'b']) metadata.deletePod('default', `node-0-${pod}`);
    assert.equal(await metadata.publish(redis, keys, TTL_MS), 3, 'the node, its pod list and its pods\' bindings');
    assert.deepEqual(await redis.hmget(keys.podNodes, 'default/node-0-a', 'default/node-1-a'), [null, 'node-1'], 'a deleted pod is bound nowhere');
    assert.equal(await redis.exists(keys.podsOnNode('node-0')), 0, 'no list for a node without pods');
    assert.equal(await redis.hexists(keys.nodeMeta, 'node-0'), 0);
    assert.equal(await metadata.renewExpiry(redis, keys, TTL_MS), 0, 'nothing lost: only node-1 has a list to renew');
    assert.equal(await redis.exists(keys.podsOnNode('node-0')), 0, 'renewing does not bring it back');
    assert.equal(await metadata.publish(redis, keys, TTL_MS), 0, 'nothing left to write for it');
    // The node comes back with a pod: its list is written again.
    metadata.upsertNode(node('node-0', 0));
    metadata.upsertPod(podMeta({ metadata: { namespace: 'default', name: 'node-0-c', uid: 'node-0-c-uid' }, spec: { nodeName: 'node-0', containers: [{ name: 'c' }] }, status: { phase: 'Running' } }));
    assert.equal(await metadata.publish(redis, keys, TTL_MS), 3);
    assert.deepEqual((JSON.parse((await redis.get(keys.podsOnNode('node-0')))!) as PodMeta[]).map((p) => p.name), ['node-0-c']);
    assert.equal(await redis.hget(keys.podNodes, 'default/node-0-c'), 'node-0');
  });

  it('loses nothing when Redis fails: the next publish writes what the failed one did not', async () => {
    await redis.flushall();
    const metadata = clusterMetadata(3);
    const unreachable = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    unreachable.on('error', () => undefined);
    await assert.rejects(metadata.publish(unreachable, keys, TTL_MS));
    unreachable.disconnect();
    assert.equal(await redis.hlen(keys.nodeMeta), 0);
    metadata.deletePod('default', 'node-2-b');
    assert.equal(await metadata.publish(redis, keys, TTL_MS), 3 + 1 + 3 + 2, 'nodes, namespace, pod lists, one write of bindings and one removal');
    assert.equal(await redis.hlen(keys.podNodes), 5);
    assert.deepEqual(Object.keys(await redis.hgetall(keys.nodeMeta)).sort(), ['node-0', 'node-1', 'node-2']);
    assert.deepEqual((JSON.parse((await redis.get(keys.podsOnNode('node-2')))!) as PodMeta[]).map((p) => p.name), ['node-2-a']);
    const meta = JSON.parse((await redis.hget(keys.nodeMeta, 'node-1'))!) as NodeMeta;
    assert.equal(meta.ready, true);
  });

  it('a pod that moves is bound to its new node; a new leader replaces the bindings, dropping pods deleted while none ran', async () => {
    await redis.flushall();
    const metadata = clusterMetadata(2);
    await metadata.publish(redis, keys, TTL_MS);
    const moved = podMeta({ metadata: { namespace: 'default', name: 'node-0-a', uid: 'node-0-a-uid-2' }, spec: { nodeName: 'node-1', containers: [{ name: 'c' }] }, status: { phase: 'Running' } });
    metadata.upsertPod(moved);
    assert.equal(await metadata.publish(redis, keys, TTL_MS), 3, 'both nodes\' pod lists and the binding');
    assert.equal(await redis.hget(keys.podNodes, 'default/node-0-a'), 'node-1');
    // A binding left by a scheduler that stopped before it saw its pod deleted.
    await redis.hset(keys.podNodes, 'default/gone', 'node-0');
    metadata.markAllDirty();
    await metadata.publish(redis, keys, TTL_MS);
    assert.deepEqual(await redis.hgetall(keys.podNodes), { 'default/node-0-a': 'node-1', 'default/node-0-b': 'node-0', 'default/node-1-a': 'node-1', 'default/node-1-b': 'node-1' });
  });
});
