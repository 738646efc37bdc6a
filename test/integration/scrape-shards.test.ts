import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { redisKeys, SCRAPE_SHARDS, scrapeShardOf } from '../../services/common/keys.js';
import { createLogger } from '../../services/common/logger.js';
import { ShardWorkers, shardsOf, type ShardWorker } from '../../services/scraper/shards.js';
import type { startScraper } from '../../services/scraper/main.js';
import type { LocalRedis } from '../../simulator/redis-server.js';
import { useLocalRedis } from '../helpers.js';
import { PipelineHarness } from '../pipeline-harness.js';

type Scraper = ReturnType<typeof startScraper>;

/** Waits until `check` holds (polling), or fails with `what`. */
async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Each shard exactly once across `owners`. */
function assertPartition(owners: readonly (readonly number[])[]): void {
  assert.deepEqual(owners.flat().sort((a, b) => a - b), Array.from({ length: SCRAPE_SHARDS }, (_, i) => i), `${JSON.stringify(owners)}`);
}

describe('scrape shards', () => {
  it('spreads nodes over every shard, and the shards evenly over any number of scrapers', () => {
    const perShard = new Array<number>(SCRAPE_SHARDS).fill(0);
    for (let i = 0; i < 10_000; i++) perShard[scrapeShardOf(`node-${String(i).padStart(5, '0')}`)]!++;
    assert.ok(Math.min(...perShard) > 0.8 * (10_000 / SCRAPE_SHARDS) && Math.max(...perShard) < 1.2 * (10_000 / SCRAPE_SHARDS), `nodes per shard: ${perShard.join(' ')}`);
    for (let scrapers = 1; scrapers <= SCRAPE_SHARDS + 1; scrapers++) {
      const owners = Array.from({ length: scrapers }, (_, rank) => shardsOf(rank, scrapers));
      assertPartition(owners);
      const sizes = owners.map((o) => o.length);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${scrapers} scrapers: ${sizes.join(' ')}`);
    }
    assert.deepEqual(shardsOf(-1, 2), [], 'a scraper not in the set works nothing');
  });

  describe('membership (real Redis)', () => {
    let server: LocalRedis;
    let redis: Redis;
    useLocalRedis('shards', (started, client) => ((server = started), (redis = client)));

    /** A ShardWorkers whose shard workers only record their concurrency and whether they were closed. */
    const member = (keys: ReturnType<typeof redisKeys>, client: Redis = redis, concurrency = 64) => {
      const started: { shard: number; worker: ShardWorker & { closed: boolean } }[] = [];
      const workers = new ShardWorkers({
        redis: client, keys, heartbeatMs: 60_000, expireMs: 500, concurrency, logger: createLogger('test', 'silent'),
        startShard: (shard, perShard) => {
          const worker = { concurrency: perShard, closed: false, close: async () => void (worker.closed = true) };
          started.push({ shard, worker });
          return worker;
        },
      });
      return { workers, started };
    };

    it('scrapers split the shards; one that stops or falls silent leaves its shards to the others; concurrency follows the share', async () => {
      const keys = redisKeys('shards-test');
      const [a, b, c] = [member(keys), member(keys), member(keys)];
      for (const m of [a, b, c]) await m.workers.heartbeat();
      assert.equal(a.workers.shards.length, SCRAPE_SHARDS, 'the first alone took every shard');
      for (const m of [a, b, c]) await m.workers.heartbeat();
      assertPartition([a.workers.shards, b.workers.shards, c.workers.shards]);
      assert.ok(a.started.filter((s) => s.worker.closed).length >= SCRAPE_SHARDS - 6, 'a closed the shards it gave up');
      assert.equal(a.started.find((s) => !s.worker.closed)!.worker.concurrency, Math.ceil(64 / a.workers.shards.length), 'its concurrency spread over its shards');
      // b stops: it leaves the set at once.
      await b.workers.stop();
      assert.ok(b.started.every((s) => s.worker.closed));
      for (const m of [a, c]) await m.workers.heartbeat();
      assertPartition([a.workers.shards, c.workers.shards]);
      // c falls silent (killed): after the expiry, a works every shard.
      await new Promise((r) => setTimeout(r, 600));
      await a.workers.heartbeat();
      assert.equal(a.workers.shards.length, SCRAPE_SHARDS);
      assert.deepEqual(await redis.zrange(keys.scrapers, 0, -1), [a.workers.id]);
      await Promise.all([a.workers.stop(), c.workers.stop()]);
    });

    it('keeps its shards while Redis does not answer', async () => {
      const keys = redisKeys('shards-down');
      const own = new Redis(server.url, { enableOfflineQueue: false, retryStrategy: () => null });
      await new Promise((resolve) => own.once('ready', resolve));
      const a = member(keys, own);
      await a.workers.heartbeat();
      assert.equal(a.workers.shards.length, SCRAPE_SHARDS);
      own.disconnect();
      await a.workers.heartbeat();
      assert.equal(a.workers.shards.length, SCRAPE_SHARDS, 'a failed heartbeat gives up nothing');
      assert.ok(a.started.every((s) => !s.worker.closed));
      await a.workers.stop();
    });
  });

  describe('pipeline (real Redis, simulator)', () => {
    let harness: PipelineHarness;
    after(async () => harness?.stop());

    it('with two scrapers each kubelet is scraped over one connection, window after window; when one stops, the other takes its nodes', async () => {
      const nodes = 12;
      harness = await PipelineHarness.start({ nodes, podsPerNode: 2, seed: 21 }, ['--job-lock-duration=2s']);
      await harness.startRoles(['processor', 'exporter']);
      const [first] = (await harness.startRoles(['scraper'])) as Scraper[];
      const [second] = (await harness.startRoles(['scraper'])) as Scraper[];
      await until(() => first!.shards.shards.length + second!.shards.shards.length === SCRAPE_SHARDS && first!.shards.shards.length > 0 && second!.shards.shards.length > 0, 'the scrapers split the shards');
      assertPartition([first!.shards.shards, second!.shards.shards]);
      await harness.startRoles(['scheduler']);
      const w1 = await harness.waitForWindow((s) => s.okNodes === nodes);
      const w3 = await harness.nextWindow((await harness.nextWindow(w1.windowStartMs, (s) => s.okNodes === nodes)).windowStartMs, (s) => s.okNodes === nodes);
      assert.equal((await harness.simulator.stats()).connectionsAccepted, nodes, 'one connection per kubelet over three windows: each node stays with one scraper');
      const movedNodes = harness.simulator.cluster.nodes.filter((n) => second!.shards.shards.includes(scrapeShardOf(n.name))).length;
      await second!.stop();
      const stoppedAt = Date.now();
      const after = await harness.nextWindow(w3.windowStartMs, (s) => s.scrapeAtMs > stoppedAt + 1000);
      assert.deepEqual([after.okNodes, after.missedNodes], [nodes, []], 'the remaining scraper scraped every node');
      assert.equal(first!.shards.shards.length, SCRAPE_SHARDS);
      assert.equal((await harness.simulator.stats()).connectionsAccepted, nodes + movedNodes, 'a new connection for each node it took over, no more');
    });
  });
});
