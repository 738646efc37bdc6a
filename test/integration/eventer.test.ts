import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { EventsExportJob } from '../../services/common/jobs.js';
import { redisKeys } from '../../services/common/keys.js';
import { apiServerConnection } from '../../services/common/kube.js';
import { LIST_PAGE_SIZE } from '../../services/common/list-watch.js';
import { createLogger } from '../../services/common/logger.js';
import { openQueues, type PipelineQueues } from '../../services/common/queues.js';
import { parseSource } from '../../services/common/source.js';
import { Eventer, TRIM_BATCH, trimDelivered } from '../../services/eventer/eventer.js';
import { LocalInflux } from '../../simulator/influx-server.js';
import { freePort, LocalRedis } from '../../simulator/redis-server.js';
import { PipelineHarness } from '../pipeline-harness.js';
import { scratchDir } from '../helpers.js';

describe('eventer: Kubernetes events to InfluxDB (real InfluxDB, simulator)', () => {
  let influx: LocalInflux;
  let harness: PipelineHarness;
  before(async () => {
    influx = await LocalInflux.start(join(scratchDir('events'), 'influx'));
    harness = await PipelineHarness.start({ nodes: 2, podsPerNode: 3, seed: 13, restartsPerMinute: 40, churnPerMinute: 20 }, [
      `--sink=influxdb:${influx.url}?db=k8s`,
      `--sink=influxdb:${influx.url}?db=k8s_fields&withfields=true`,
      '--sink-retry-base=100ms', '--sink-retry-max=1s', '--event-flush-interval=200ms',
    ]);
    await harness.startRoles(['exporter']);
  });
  after(async () => {
    await harness?.stop();
    await influx?.stop();
  });

  /** Waits until InfluxDB has, for every event the simulator has now, its point at its lastTimestamp. */
  async function waitForAllEvents(timeoutMs = 30_000): Promise<number> {
    const wanted = [...harness.simulator.cluster.events.values()].map((e) => ({ uid: e.uid, timeMs: e.lastTimestampMs }));
    const deadline = Date.now() + timeoutMs;
    let missing = wanted;
    while (Date.now() < deadline) {
      const series = await influx.query('k8s', 'SELECT "value" FROM "log/events" GROUP BY "uid"').catch(() => []);
      const have = new Set(series.flatMap((s) => s.values.map((v) => `${s.tags?.uid}@${v[0]}`)));
      missing = wanted.filter((w) => !have.has(`${w.uid}@${w.timeMs}`));
      if (missing.length === 0) return wanted.length;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`${missing.length} of ${wanted.length} events never reached InfluxDB, e.g. ${JSON.stringify(missing.slice(0, 3))}`);
  }

  it("writes the simulator's events in Heapster's schemas (log/events with the event JSON; events with fields)", async () => {
    harness.spawnRole('eventer', [`--metrics-address=127.0.0.1:${await freePort()}`]);
    // The simulator's restarts and churn make events (scheduled, pulled, started, killing, back-off).
    const deadline = Date.now() + 20_000;
    while (![...harness.simulator.cluster.events.values()].some((e) => e.reason === 'Started' && e.involved.kind === 'Pod') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const count = await waitForAllEvents();
    assert.ok(count > 0);
    const started = [...harness.simulator.cluster.events.values()].find((e) => e.reason === 'Started' && e.involved.kind === 'Pod')!;
    const [point] = await influx.query('k8s', `SELECT "value", "pod_name", "hostname", "cluster_name" FROM "log/events" WHERE "uid" = '${started.uid}'`);
    const row = point!.values.at(-1)!;
    const event = JSON.parse(row[point!.columns.indexOf('value')] as string) as { reason: string; involvedObject: { name: string } };
    assert.equal(event.reason, 'Started');
    assert.equal(row[point!.columns.indexOf('pod_name')], started.involved.name);
    assert.equal(row[point!.columns.indexOf('hostname')], started.source.host);
    const fields = await influx.query('k8s_fields', `SELECT "message", "reason", "kind", "object_name" FROM "events" WHERE "uid" = '${started.uid}'`);
    const fieldRow = fields[0]!.values.at(-1)!;
    assert.equal(fieldRow[fields[0]!.columns.indexOf('message')], started.message);
    assert.deepEqual([fieldRow[fields[0]!.columns.indexOf('reason')], fieldRow[fields[0]!.columns.indexOf('kind')]], ['Started', 'Pod']);
  });

  it('the eventer killed and restarted while events keep coming, and a forced 410 Gone: every event once, none twice', async () => {
    const [running] = harness.children.filter((c) => c.exitCode === null);
    await new Promise((r) => setTimeout(r, 1500));
    running!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 2500));
    const metricsPort = await freePort();
    harness.spawnRole('eventer', [`--metrics-address=127.0.0.1:${metricsPort}`]);
    await new Promise((r) => setTimeout(r, 2000));
    // Older resourceVersions now answer 410 Gone: the watch must list again without a gap or repeat.
    const response = await fetch(`${harness.simulator.apiUrl}/simulator/expire-history`, { method: 'POST' });
    assert.equal(response.status, 200);
    await new Promise((r) => setTimeout(r, 2500));
    await waitForAllEvents();
    // None twice: across every events job the sinks received, each (uid, count) appears once.
    const jobs = await harness.runtime.queues.export('influxdb').getJobs(['completed', 'active', 'waiting', 'delayed']);
    const seen = new Map<string, number>();
    for (const job of jobs.filter((j) => j.name === 'events')) {
      for (const e of (job.data as unknown as EventsExportJob).events) seen.set(`${e.uid}#${e.count}@${e.lastTimestampMs}`, (seen.get(`${e.uid}#${e.count}@${e.lastTimestampMs}`) ?? 0) + 1);
    }
    const repeated = [...seen].filter(([, n]) => n > 1);
    assert.deepEqual(repeated, [], 'no event delivered twice');
    assert.ok(seen.size >= harness.simulator.cluster.events.size);
    // The restarted eventer reports what it delivered on its /metrics.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^podometer_events_delivered_total\{role="eventer"\} [1-9]/m);
  });
});

describe('eventer: a list of more events than one page (real Redis)', () => {
  const EVENTS = 1200;
  const LIST_VERSION = '4242';
  let server: Server;
  let redisServer: LocalRedis;
  let redis: Redis;
  let queues: PipelineQueues;
  const watchVersions: (string | null)[] = [];
  const keys = redisKeys('events-paged');
  const event = (i: number) => ({
    metadata: { uid: `uid-${i}`, namespace: 'default', name: `pod-${i}.17` },
    involvedObject: { kind: 'Pod', name: `pod-${i}`, uid: `pod-uid-${i}` },
    reason: 'Started', message: 'Started container app', type: 'Normal', source: { component: 'kubelet', host: 'node-1' },
    count: 1, firstTimestamp: '2026-12-01T00:00:00Z', lastTimestamp: '2026-12-01T00:00:00Z',
  });
  before(async () => {
    redisServer = await LocalRedis.start(join(scratchDir('events-paged'), 'redis'));
    redis = new Redis(redisServer.url);
    queues = openQueues(redis, keys, createLogger('test', 'silent'));
    server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://x');
      if (url.searchParams.get('watch') === 'true') {
        watchVersions.push(url.searchParams.get('resourceVersion'));
        response.writeHead(200, { 'content-type': 'application/json' }).write('');
        return;
      }
      const from = Number(url.searchParams.get('continue') ?? 0);
      // As the API server: without `limit`, everything in one answer.
      const to = Math.min(EVENTS, from + Number(url.searchParams.get('limit') ?? EVENTS));
      const metadata = { resourceVersion: LIST_VERSION, ...(to < EVENTS ? { continue: String(to) } : {}) };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'EventList', metadata, items: Array.from({ length: to - from }, (_, i) => event(from + i)) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await queues.close();
    redis.disconnect();
    await redisServer.stop();
  });

  it('enqueues every page as it is read, and watches from the list\'s version once all are in', async () => {
    const api = await apiServerConnection(parseSource(`kubernetes.summary_api:http://127.0.0.1:${(server.address() as AddressInfo).port}?inClusterConfig=false`));
    const eventer = new Eventer(api, redis, keys, queues, { sinks: ['influxdb'], namespaces: [], flushIntervalMs: 3_600_000, sinkAttempts: 1, deliveredTtlMs: 3_600_000 }, createLogger('test', 'silent'));
    eventer.start();
    const deadline = Date.now() + 10_000;
    while (watchVersions.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await eventer.stop();
    assert.deepEqual(watchVersions, [LIST_VERSION]);
    assert.equal(await redis.get(keys.eventsResourceVersion), LIST_VERSION);
    const jobs = (await queues.export('influxdb').getJobs(['waiting', 'delayed', 'active', 'completed'])).filter((j) => j.name === 'events');
    const uids = jobs.flatMap((j) => (j.data as unknown as EventsExportJob).events.map((e) => e.uid));
    assert.equal(new Set(uids).size, EVENTS, 'every event once');
    assert.equal(uids.length, EVENTS, 'none twice');
    assert.equal(jobs.length, Math.ceil(EVENTS / LIST_PAGE_SIZE), 'one batch per page');
  });

  it('forgets delivered marks older than the TTL, the oldest TRIM_BATCH per delivery, and keeps newer ones', async () => {
    const stale = TRIM_BATCH * 2 + 500;
    const seeding = redis.multi();
    for (let i = 0; i < stale; i++) seeding.hset(keys.eventsDelivered, `old-${i}`, '1').zadd(keys.eventsSeen, i, `old-${i}`);
    for (let i = 0; i < 10; i++) seeding.hset(keys.eventsDelivered, `new-${i}`, '1').zadd(keys.eventsSeen, 1_000_000 + i, `new-${i}`);
    await seeding.exec();
    const marks = async (prefix: string) => (await redis.hkeys(keys.eventsDelivered)).filter((uid) => uid.startsWith(prefix)).length;
    assert.equal(await trimDelivered(redis, keys, 500_000), TRIM_BATCH);
    assert.equal(await marks('old-'), stale - TRIM_BATCH, 'one batch at a time');
    assert.equal(await redis.zscore(keys.eventsSeen, 'old-0'), null, 'the oldest first');
    assert.deepEqual([await trimDelivered(redis, keys, 500_000), await trimDelivered(redis, keys, 500_000), await trimDelivered(redis, keys, 500_000)], [TRIM_BATCH, 500, 0]);
    assert.deepEqual([await marks('old-'), await redis.zcount(keys.eventsSeen, '-inf', '(500000')], [0, 0], 'every stale mark gone');
    assert.equal(await marks('new-'), 10, 'marks seen after the cutoff kept');
  });
});
