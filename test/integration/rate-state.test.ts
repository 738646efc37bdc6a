import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { decodeMetricSet } from '../../services/common/batch-codec.js';
import type { NodeRecord, ScrapedNode, WindowManifest } from '../../services/common/jobs.js';
import { JOB_ID, redisKeys } from '../../services/common/keys.js';
import { createLogger } from '../../services/common/logger.js';
import { metricSetKey } from '../../services/common/metrics.js';
import { toApproxNumber } from '../../services/common/metric-set.js';
import { openQueues, type PipelineQueues } from '../../services/common/queues.js';
import { execOrThrow } from '../../services/common/redis.js';
import { SelfMetrics } from '../../services/common/self-metrics.js';
import { DEFAULT_ENRICH_OPTIONS } from '../../services/processor/enrich.js';
import { releaseStaging } from '../../services/exporter/exporter.js';
import { finalizeWindow, processScrape, type NodeProcessingDeps } from '../../services/processor/processor.js';
import { ClusterMetadata } from '../../services/scheduler/discovery.js';
import { namespaceMeta, podMeta, type NamespaceLike, type PodLike } from '../../services/scheduler/metadata.js';
import { SimulatedCluster } from '../../simulator/cluster.js';
import { namespaceJson, podJson } from '../../simulator/objects.js';
import { LocalRedis } from '../../simulator/redis-server.js';
import { SummaryRenderer } from '../../simulator/summary-render.js';
import { scratchDir } from '../helpers.js';

const WINDOW_MS = 60_000;
const keys = redisKeys('rate-test');

describe('processing and finalizing windows (real Redis)', () => {
  let server: LocalRedis;
  let redis: Redis;
  let queues: PipelineQueues;
  const cluster = new SimulatedCluster({ nodes: 1, podsPerNode: 2, containersPerPod: 1, seed: 3, restartsPerMinute: 0, churnPerMinute: 0 });
  const node = cluster.nodes[0]!;
  const renderer = new SummaryRenderer();
  const firstWindowMs = Math.floor(cluster.builtAtMs / WINDOW_MS) * WINDOW_MS + WINDOW_MS;
  const windowMs = (n: number): number => firstWindowMs + n * WINDOW_MS;

  before(async () => {
    server = await LocalRedis.start(join(scratchDir('rates'), 'redis'));
    redis = new Redis(server.url);
    queues = openQueues(redis, keys, createLogger('test', 'silent'));
  });
  after(async () => {
    await Promise.all(queues.all().map((q) => q.close()));
    redis.disconnect();
    await server.stop();
  });

  const deps = (): NodeProcessingDeps => ({ redis, keys, queues, stagingTtlMs: 10 * WINDOW_MS, logger: createLogger('test', 'silent'), enrich: DEFAULT_ENRICH_OPTIONS });

  /** Bodies processing handed back (`releaseBody`); each is zeroed as it is, so a body read after would not parse. */
  let bodiesReleased = 0;
  /** Window n's manifest (another node is expected too, so no window finalizes here), then the node's scrape of it. */
  async function scrape(n: number, ok: boolean): Promise<void> {
    const windowStartMs = windowMs(n);
    const manifest: WindowManifest = { windowStartMs, windowEndMs: windowStartMs + WINDOW_MS, scrapeAtMs: windowStartMs + WINDOW_MS + 5000, deadlineMs: windowStartMs + WINDOW_MS + 45_000, expectedNodes: [node.name, 'absent-node'] };
    await redis.set(keys.windowManifest(windowStartMs), JSON.stringify(manifest));
    const scrapedAtMs = windowStartMs + WINDOW_MS + 5000;
    const body = Buffer.from(renderer.render(node, scrapedAtMs));
    const scraped: ScrapedNode = ok
      ? { windowStartMs, nodeName: node.name, outcome: { status: 'ok', bytes: body.length, durationMs: 3, receivedAtMs: scrapedAtMs }, body, releaseBody: () => (bodiesReleased++, body.fill(0)) }
      : { windowStartMs, nodeName: node.name, outcome: { status: 'failed', reason: 'refused', message: 'connection refused', durationMs: 1 } };
    await processScrape(scraped, deps());
    assert.equal(scraped.body, undefined, 'processing lets go of the body');
  }

  const nodeCpuRate = async (n: number): Promise<number | undefined> => {
    const text = await redis.hget(keys.windowSets(windowMs(n)), metricSetKey.node(node.name));
    assert.ok(text, `window ${n} staged the node's set`);
    const rate = decodeMetricSet(text).values['cpu/usage_rate'];
    return rate === undefined ? undefined : toApproxNumber(rate);
  };
  const keptWindows = async (): Promise<number[]> => (await redis.hkeys(keys.rateState(node.name))).map(Number).sort((a, b) => a - b);

  it('the first window has no rate; after a missed window the rate spans both; the newest two samples are kept, and a retry finds its predecessor', async () => {
    const trueRate = SimulatedCluster.nodeCpuMilliCores(node);
    await scrape(0, true);
    assert.equal(await nodeCpuRate(0), undefined, 'no previous sample, no rate');
    await scrape(1, false);
    await scrape(2, true);
    const acrossTheGap = await nodeCpuRate(2);
    assert.ok(acrossTheGap !== undefined && Math.abs(acrossTheGap - trueRate) <= trueRate * 0.01, `rate from window 0 to 2: ${acrossTheGap} against ${trueRate}`);
    assert.deepEqual(await keptWindows(), [windowMs(0), windowMs(2)]);
    await scrape(3, true);
    const next = await nodeCpuRate(3);
    assert.ok(next !== undefined && Math.abs(next - trueRate) <= trueRate * 0.01, `rate from window 2 to 3: ${next} against ${trueRate}`);
    assert.deepEqual(await keptWindows(), [windowMs(2), windowMs(3)], 'window 0 dropped');
    await redis.hdel(keys.windowSets(windowMs(3)), metricSetKey.node(node.name));
    await scrape(3, true);
    assert.equal(await nodeCpuRate(3), next, 'a retried window computes against the same predecessor');
    assert.deepEqual(await keptWindows(), [windowMs(2), windowMs(3)]);
    // Each body was overwritten with zeros as it was handed back: the rates above came from the summaries as sent.
    assert.equal(bodiesReleased, 4, 'each ok scrape\'s body handed back once, after it was parsed');
  });

  it('a pod two kubelets report is counted once, from the node the API server binds it to', async () => {
    const pair = new SimulatedCluster({ nodes: 2, podsPerNode: 3, containersPerPod: 1, seed: 5, restartsPerMinute: 0, churnPerMinute: 0 });
    const [a, b] = pair.nodes as [typeof node, typeof node];
    // The scheduler's metadata, as it publishes it (pod lists per node and where each pod is bound).
    const metadata = new ClusterMetadata({ preferredAddressTypes: ['InternalIP'], useNodeStatusPort: false, port: 10250, https: true });
    for (const namespace of pair.namespaces.values()) metadata.upsertNamespace(namespaceMeta(namespaceJson(namespace) as NamespaceLike));
    for (const pod of pair.pods.values()) metadata.upsertPod(podMeta(podJson(pod) as PodLike));
    await metadata.publish(redis, keys, 10 * WINDOW_MS);
    const scrapedAtMs = windowMs(200) + WINDOW_MS + 5000;
    const summaryOf = (of: typeof node) => JSON.parse(renderer.render(of, scrapedAtMs)) as { pods: { podRef: { name: string; namespace: string } }[] };
    const moved = summaryOf(b).pods[0]!;
    /** Window n, both nodes scraped at the same moment; `aAlsoReportsMoved`: a's kubelet still reports b's first pod (it moved from a). */
    const window = async (n: number, aAlsoReportsMoved: boolean) => {
      const windowStartMs = windowMs(n);
      const manifest: WindowManifest = { windowStartMs, windowEndMs: windowStartMs + WINDOW_MS, scrapeAtMs: windowStartMs + WINDOW_MS + 5000, deadlineMs: windowStartMs + WINDOW_MS + 45_000, expectedNodes: [a.name, b.name] };
      await redis.set(keys.windowManifest(windowStartMs), JSON.stringify(manifest));
      for (const of of [a, b]) {
        const summary = summaryOf(of);
        if (of === a && aAlsoReportsMoved) summary.pods.push(moved);
        const body = Buffer.from(JSON.stringify(summary));
        await processScrape({ windowStartMs, nodeName: of.name, outcome: { status: 'ok', bytes: body.length, durationMs: 3, receivedAtMs: scrapedAtMs }, body }, deps());
      }
      const summary = await finalizeWindow(windowStartMs, { ...deps(), sinks: [], sinkRetry: { attempts: 1, backlog: 100 } });
      const rollUp = async (key: string) => toApproxNumber(decodeMetricSet((await redis.hget(keys.windowSets(windowStartMs), key))!).values['memory/usage']!);
      const outcomeOfA = JSON.parse((await redis.hget(keys.windowOutcomes(windowStartMs), a.name))!) as NodeRecord;
      return { summary, outcomeOfA, namespace: await rollUp(metricSetKey.namespace(moved.podRef.namespace)), cluster: await rollUp(metricSetKey.cluster()) };
    };
    const alone = await window(200, false);
    const twice = await window(201, true);
    assert.equal(alone.summary?.podsBoundElsewhere, undefined);
    assert.equal(twice.summary?.podsBoundElsewhere, 1, 'the window counts the pod left out');
    assert.deepEqual(twice.outcomeOfA.podsBoundElsewhere, { [`${moved.podRef.namespace}/${moved.podRef.name}`]: b.name });
    assert.equal(twice.namespace, alone.namespace, 'the namespace counts the pod once');
    assert.equal(twice.cluster, alone.cluster, 'so does the cluster');
    const selfMetrics = new SelfMetrics({ role: 'scraper' });
    selfMetrics.processed(twice.outcomeOfA);
    assert.match(await selfMetrics.registry.metrics(), /^podometer_pods_bound_elsewhere_total(\{[^}]*\})? 1$/m, 'and the scraper\'s metrics');
  });

  it('finalizing fails, writing no summary and handing the window to no sink, when the sinks that must write it cannot be recorded', async () => {
    const windowStartMs = windowMs(100);
    const manifest: WindowManifest = { windowStartMs, windowEndMs: windowStartMs + WINDOW_MS, scrapeAtMs: windowStartMs + WINDOW_MS + 5000, deadlineMs: windowStartMs + WINDOW_MS + 45_000, expectedNodes: [] };
    await redis.set(keys.windowManifest(windowStartMs), JSON.stringify(manifest));
    // Not a set: Redis refuses the SADD (WRONGTYPE), as it would refuse any write when out of memory.
    await redis.set(keys.windowExports(windowStartMs), 'not a set');
    const finalizing = finalizeWindow(windowStartMs, { redis, keys, queues, stagingTtlMs: 10 * WINDOW_MS, logger: createLogger('test', 'silent'), sinks: ['influxdb'], sinkRetry: { attempts: 1, backlog: 100 } });
    await assert.rejects(finalizing, /WRONGTYPE/);
    assert.equal(await queues.export('influxdb').getJob(JOB_ID.export('influxdb', windowStartMs)), undefined, 'no export job without the record of who must write the window');
    assert.equal(await redis.exists(keys.windowSummary(windowStartMs)), 0, 'no summary either: a retry finalizes the window from the start');
  });

  /** `queues` whose export queues fail `method` once (the connection lost at that step), then work. */
  function failingOnce(method: 'getJobCountByTypes' | 'add'): PipelineQueues {
    let failed = false;
    return {
      ...queues,
      export: (sink: string) =>
        new Proxy(queues.export(sink), {
          get(target, property, receiver) {
            if (property === method && !failed) {
              failed = true;
              return () => Promise.reject(new Error('Connection is closed.'));
            }
            const value: unknown = Reflect.get(target, property, receiver);
            return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          },
        }),
    };
  }

  for (const [step, method, n] of [['counting a sink\'s backlog', 'getJobCountByTypes', 110], ['adding the export jobs', 'add', 111]] as const) {
    it(`a finalization that failed ${step}, retried, hands the window to every sink: the first sink to write it does not free it for the other`, async () => {
      await scrape(n, true);
      const windowStartMs = windowMs(n);
      const finalizeDeps = { redis, keys, stagingTtlMs: 10 * WINDOW_MS, logger: createLogger('test', 'silent'), sinks: ['influxdb', 'elasticsearch'], sinkRetry: { attempts: 1, backlog: 100 } };
      await assert.rejects(finalizeWindow(windowStartMs, { ...finalizeDeps, queues: failingOnce(method) }), /Connection is closed/);
      const retried = await finalizeWindow(windowStartMs, { ...finalizeDeps, queues });
      assert.equal(retried?.okNodes, 1);
      for (const sink of finalizeDeps.sinks) assert.ok(await queues.export(sink).getJob(JOB_ID.export(sink, windowStartMs)), `an export job for ${sink}`);
      const release = async (sink: string): Promise<number> => (await execOrThrow(releaseStaging(redis.pipeline(), keys, windowStartMs, sink)))[0]![1] as number;
      assert.equal(await release('influxdb'), 0, 'influxdb wrote it; elasticsearch has not');
      assert.equal(await redis.exists(keys.windowSets(windowStartMs)), 1, 'the window is still staged for elasticsearch');
      assert.equal(await release('elasticsearch'), 1);
      assert.equal(await redis.exists(keys.windowSets(windowStartMs)), 0, 'freed once both wrote it');
    });
  }
});
