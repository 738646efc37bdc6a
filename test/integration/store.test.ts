import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { StoreReader } from '../../services/api/store.js';
import type { WindowSummary } from '../../services/common/jobs.js';
import { redisKeys } from '../../services/common/keys.js';
import type { MetricSet } from '../../services/common/metric-set.js';
import { StagedSets, stageMetricSets, stageNodeSets } from '../../services/common/staging.js';
import type { WindowBatch } from '../../services/exporter/sink.js';
import { releaseStaging } from '../../services/exporter/exporter.js';
import { StoreSink } from '../../services/exporter/sinks/store.js';
import { useLocalRedis } from '../helpers.js';

const POD = 'namespace:default/pod:web-1';

const keys = redisKeys('store-test');

/**
 * Stages one pod set for window W as the processor would, with the sinks that must write it
 * (as the finalizer names them), and returns the window for the sink.
 */
async function window(redis: Redis, windowStartMs: number, cpu: number, memory: bigint | number, sinks: readonly string[] = ['store']): Promise<WindowBatch> {
  return windowOf(redis, windowStartMs, [podSet(POD, 'pod', windowStartMs, cpu, memory)], sinks);
}

const podSet = (key: string, type: MetricSet['type'], windowStartMs: number, cpu: number, memory: bigint | number): MetricSet => ({
  key, type, labels: { type }, scrapeTimeMs: windowStartMs + 60_000, sampleTimesMs: {}, values: { 'cpu/usage_rate': cpu, 'memory/usage': memory, 'memory/working_set': 42 }, labeled: [],
});

async function windowOf(redis: Redis, windowStartMs: number, sets: MetricSet[], sinks: readonly string[] = ['store']): Promise<WindowBatch> {
  const summary: WindowSummary = { windowStartMs, windowEndMs: windowStartMs + 60_000, scrapeAtMs: windowStartMs + 65_000, expectedNodes: 1, okNodes: 1, failedNodes: {}, missedNodes: [], finalizedBy: 'complete', finalizedAtMs: windowStartMs + 66_000, metricSets: sets.length, rateSkips: {} };
  const staging = redis.multi();
  stageMetricSets(staging, keys, windowStartMs, sets, 60_000);
  staging.sadd(keys.windowExports(windowStartMs), ...sinks);
  await staging.exec();
  return { summary, chunks: () => assert.fail('the store keeps the staged hashes; it reads no chunks') };
}

/** What the exporter does after `sink` wrote window W. */
const written = async (redis: Redis, windowStartMs: number, sink: string): Promise<void> => {
  await releaseStaging(redis.multi(), keys, windowStartMs, sink).exec();
};

describe('short-term store (real Redis)', () => {
  let redis: Redis;
  useLocalRedis('store', (_server, client) => (redis = client));

  it('serves any metric while a window is fully kept, then only cpu/usage_rate and memory/usage, then nothing', async () => {
    const sink = new StoreSink(redis, keys, { windowRetentionMs: 300, longRetentionMs: 120_000 });
    const reader = new StoreReader(redis, keys);
    for (const [windowStartMs, cpu, memory] of [[0, 100, 2n ** 60n], [60_000, 200, 5]] as const) {
      await sink.write(await window(redis, windowStartMs, cpu, memory));
      await written(redis, windowStartMs, 'store');
    }
    assert.deepEqual(await reader.windows(), [0, 60_000]);
    assert.deepEqual((await reader.series(POD, 'memory/working_set')).map((p) => p.value), [42, 42]);
    assert.deepEqual(await reader.series(POD, 'cpu/usage_rate', 100_000, 200_000), [{ timestampMs: 120_000, value: 200 }], 'time range is by window end');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await redis.exists(keys.windowSets(0)), 0, 'full windows expire by themselves');
    assert.deepEqual(await reader.series(POD, 'memory/working_set'), []);
    assert.deepEqual((await reader.series(POD, 'cpu/usage_rate')).map((p) => p.value), [100, 200]);
    assert.deepEqual((await reader.series(POD, 'memory/usage')).map((p) => p.value), [2n ** 60n, 5], 'exact above 2^53');
    // A window past the long retention drops older windows from the index and their summaries.
    await sink.write(await window(redis, 300_000, 300, 7));
    await written(redis, 300_000, 'store');
    assert.deepEqual(await reader.windows(), [300_000]);
    assert.equal(await reader.summary(0), undefined);
    const longTtlMs = await redis.pttl(keys.windowLong(300_000));
    assert.ok(longTtlMs > 100_000 && longTtlMs <= 120_000, `long-term values kept the long retention, not staging's 60 s (${longTtlMs} ms)`);
  });

  it('keeps a window as long as the retention says on Redis\'s clock, whatever the exporter\'s clock says', async () => {
    const sink = new StoreSink(redis, keys, { windowRetentionMs: 140_000, longRetentionMs: 900_000 });
    const realNow = Date.now;
    Date.now = () => realNow() + 3_600_000; // the exporter's clock an hour fast
    try {
      await sink.write(await window(redis, 600_000, 1, 1));
    } finally {
      Date.now = realNow;
    }
    await written(redis, 600_000, 'store');
    const setsTtlMs = await redis.pttl(keys.windowSets(600_000));
    const longTtlMs = await redis.pttl(keys.windowLong(600_000));
    assert.ok(setsTtlMs > 130_000 && setsTtlMs <= 140_000, `full sets kept 140 s (${setsTtlMs} ms), not 140 s plus the skew`);
    assert.ok(longTtlMs > 890_000 && longTtlMs <= 900_000, `long-term values kept 15 min (${longTtlMs} ms)`);
  });

  it('keeps long-term values one field per pod and node, each set\'s its own, and reads a store written one field per set', async () => {
    const sink = new StoreSink(redis, keys, { windowRetentionMs: 300, longRetentionMs: 120_000 });
    const reader = new StoreReader(redis, keys);
    const windowStartMs = 3_600_000;
    const node = 'node:n1';
    const kubelet = `${node}/container:kubelet`;
    const nginx = `${POD}/container:nginx`;
    const sidecar = `${POD}/container:sidecar`;
    const sets = [
      podSet(node, 'node', windowStartMs, 1000, 2000),
      podSet(kubelet, 'sys_container', windowStartMs, 10, 20),
      podSet(POD, 'pod', windowStartMs, 300, 400),
      podSet(nginx, 'pod_container', windowStartMs, 100, 150),
      podSet(sidecar, 'pod_container', windowStartMs, 200, 250),
      podSet('namespace:default', 'ns', windowStartMs, 300, 400),
    ];
    await sink.write(await windowOf(redis, windowStartMs, sets));
    await written(redis, windowStartMs, 'store');
    assert.deepEqual((await redis.hkeys(keys.windowLong(windowStartMs))).sort(), ['namespace:default', POD, node].sort(), 'one field per pod, node and roll-up');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await redis.exists(keys.windowSets(windowStartMs)), 0, 'only long-term values are left');
    for (const set of sets) {
      assert.deepEqual(await reader.series(set.key, 'cpu/usage_rate', windowStartMs, windowStartMs + 60_000), [{ timestampMs: windowStartMs + 60_000, value: set.values['cpu/usage_rate'] }], set.key);
      assert.deepEqual((await reader.series(set.key, 'memory/usage', windowStartMs, windowStartMs + 60_000)).map((p) => p.value), [set.values['memory/usage']], set.key);
    }
    assert.deepEqual(await reader.series(`${POD}/container:gone`, 'cpu/usage_rate', windowStartMs, windowStartMs + 60_000), []);
    // A window an older version wrote: one field per set, the pod's own field holding the pod's values.
    const olderMs = windowStartMs + 60_000;
    await sink.write(await windowOf(redis, olderMs, []));
    await redis.hset(keys.windowLong(olderMs), POD, '7|8', nginx, '5|6');
    assert.deepEqual((await reader.series(POD, 'cpu/usage_rate', olderMs + 1, olderMs + 60_000)).map((p) => p.value), [7]);
    assert.deepEqual((await reader.series(nginx, 'memory/usage', olderMs + 1, olderMs + 60_000)).map((p) => p.value), [6], 'not the pod\'s value of the pod\'s field');
    assert.deepEqual(await reader.series(sidecar, 'cpu/usage_rate', olderMs + 1, olderMs + 60_000), []);
  });

  it('stages a node\'s sets in one packed field and finds every set by key, by prefix and by type; sinks read each once; a store written one field per set reads the same', async () => {
    const reader = new StoreReader(redis, keys);
    const other = 'namespace:default/pod:web-10';
    const setsOf = (windowStartMs: number): MetricSet[] => [
      podSet('node:n1', 'node', windowStartMs, 1000, 2000),
      podSet('node:n1/container:kubelet', 'sys_container', windowStartMs, 10, 20),
      podSet(POD, 'pod', windowStartMs, 300, 400),
      podSet(`${POD}/container:nginx`, 'pod_container', windowStartMs, 100, 150),
      podSet(other, 'pod', windowStartMs, 30, 40),
      podSet(`${other}/container:app`, 'pod_container', windowStartMs, 30, 40),
      podSet('namespace:kube-system/pod:dns', 'pod', windowStartMs, 5, 6),
    ];
    const rollups = (windowStartMs: number): MetricSet[] => [podSet('namespace:default', 'ns', windowStartMs, 330, 440), podSet('cluster', 'cluster', windowStartMs, 1000, 2000)];
    const packedMs = 7_200_000;
    const perSetMs = packedMs + 60_000;
    for (const [windowStartMs, stage] of [
      [packedMs, (m: ReturnType<Redis['multi']>) => stageNodeSets(m, keys, packedMs, 'n1', setsOf(packedMs), 60_000)],
      [perSetMs, (m: ReturnType<Redis['multi']>) => stageMetricSets(m, keys, perSetMs, setsOf(perSetMs), 60_000)],
    ] as const) {
      const staging = redis.multi();
      stage(staging);
      stageMetricSets(staging, keys, windowStartMs, rollups(windowStartMs), 60_000);
      await staging.exec();
    }
    const fields = (await redis.hkeys(keys.windowSets(packedMs))).sort();
    assert.deepEqual(fields, ['@n1', 'cluster', 'namespace:default', 'namespace:default/pod:web-1', 'namespace:default/pod:web-10', 'namespace:kube-system/pod:dns', 'node:n1'], 'the node\'s own set, one packed field, a reference per pod and the roll-ups');
    assert.ok((await redis.hstrlen(keys.windowSets(packedMs), '@n1')) < 7 * 300, 'the packed field is smaller than its sets\' JSON');
    const keysOf = (sets: MetricSet[]): string[] => sets.map((set) => set.key).sort();
    for (const windowStartMs of [packedMs, perSetMs]) {
      const all = [...setsOf(windowStartMs), ...rollups(windowStartMs)];
      for (const set of all) assert.deepEqual(await reader.set(set.key, windowStartMs), set, `${set.key} at ${windowStartMs}`);
      assert.equal(await reader.set(`${POD}/container:gone`, windowStartMs), undefined);
      assert.equal(await reader.set('namespace:default/pod:gone', windowStartMs), undefined);
      assert.equal(await reader.set('node:n2/container:kubelet', windowStartMs), undefined);
      assert.deepEqual(keysOf(await reader.sets(windowStartMs)), keysOf(all), 'every set');
      const under = (prefix: string, types?: MetricSet['type'][]): string[] => keysOf(all.filter((set) => set.key.startsWith(prefix) && (!types || types.includes(set.type))));
      for (const [prefix, types] of [
        ['node:', undefined], ['node:', ['node']], ['namespace:', ['ns']], ['namespace:default/pod:', ['pod']], ['namespace:default/pod:', undefined],
        [POD, ['pod', 'pod_container']], [`${POD}/container:`, undefined], ['node:n1/container:', undefined], ['namespace:kube-system/', undefined], ['nothing:', undefined],
      ] as [string, MetricSet['type'][] | undefined][]) {
        assert.deepEqual(keysOf(await reader.sets(windowStartMs, prefix, types)), under(prefix, types), `${prefix} ${types?.join(',') ?? ''} at ${windowStartMs}`);
      }
      const chunked: MetricSet[] = [];
      for await (const chunk of new StagedSets(redis, keys).chunks(windowStartMs)) chunked.push(...chunk);
      assert.deepEqual(keysOf(chunked), keysOf(all), 'a sink reads every set once');
    }
  });

  it('keeps a window for a slower sink past the store\'s retention, then frees it when that sink has written it', async () => {
    const sink = new StoreSink(redis, keys, { windowRetentionMs: 200, longRetentionMs: 400 });
    const reader = new StoreReader(redis, keys);
    const windowStartMs = 900_000;
    await sink.write(await window(redis, windowStartMs, 100, 5, ['store', 'influxdb']));
    await written(redis, windowStartMs, 'store');
    assert.equal((await reader.set(POD, windowStartMs))?.values['memory/working_set'], 42);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await redis.hlen(keys.windowSets(windowStartMs)), 1, 'influxdb has not written it yet: the staged sets stay');
    await written(redis, windowStartMs, 'influxdb');
    assert.equal(await redis.exists(keys.windowSets(windowStartMs), keys.windowLong(windowStartMs), keys.windowPartials(windowStartMs)), 0, 'both retentions have passed');
    assert.equal(await reader.set(POD, windowStartMs), undefined);
  });

  it('without the store, the last sink deletes the staged window', async () => {
    const windowStartMs = 1_200_000;
    await window(redis, windowStartMs, 100, 5, ['influxdb', 'elasticsearch']);
    await written(redis, windowStartMs, 'influxdb');
    assert.equal(await redis.hlen(keys.windowSets(windowStartMs)), 1);
    await written(redis, windowStartMs, 'elasticsearch');
    assert.equal(await redis.exists(keys.windowSets(windowStartMs), keys.windowLong(windowStartMs)), 0);
  });
});
