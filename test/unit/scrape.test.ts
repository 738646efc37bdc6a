import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeletClient, ScrapeError } from '../../services/scraper/kubelet-client.js';
import { InFlightLimit, runScrapeJob, scrapeNode, type ScrapeDeps } from '../../services/scraper/scrape.js';
import type { NodeRecord, NodeScrape } from '../../services/common/jobs.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, reader } from '../../services/common/config.js';
import { kubeletClientFrom, SCRAPER_ROLE_OPTIONS } from '../../services/scraper/main.js';
import { scratchDir, summaryFixture } from '../helpers.js';

const job = { windowStartMs: 60_000, nodeName: 'node1', kubeletUrl: 'https://10.0.0.1:10250', deadlineMs: 200_000 };
const deps = (fetch: ScrapeDeps['fetchSummary'], nowMs = 100_000): ScrapeDeps => ({ fetchSummary: fetch, maxResponseBytes: 1 << 20, now: () => nowMs });

describe('scrape handler', () => {
  it('fetches /stats/summary and hands processing the summary as the kubelet sent it', async () => {
    let askedUrl = '';
    const text = summaryFixture('telegraf_stats_summary.json');
    const result = await scrapeNode(job, deps(async (_node, url) => {
      askedUrl = url;
      return { body: Buffer.from(text), receivedAtMs: 100_100, latencyMs: 12, release: () => {} };
    }));
    assert.equal(askedUrl, 'https://10.0.0.1:10250/stats/summary');
    assert.deepEqual(result.outcome, { status: 'ok', bytes: Buffer.byteLength(text), durationMs: 12, receivedAtMs: 100_100 });
    assert.equal(result.body?.toString('utf8'), text, 'the response goes to processing as received');
  });
  it('a kubelet error, a body that is not UTF-8 or a job past its deadline becomes a failed outcome with its reason; nothing is thrown', async () => {
    const refused = await scrapeNode(job, deps(async () => {
      throw new ScrapeError('node1', 'unauthorized', 'HTTP 401');
    }));
    assert.deepEqual([refused.outcome.status, refused.outcome.status === 'failed' && refused.outcome.reason], ['failed', 'unauthorized']);
    let released = 0;
    const binary = await scrapeNode(job, deps(async () => ({ body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), receivedAtMs: 1, latencyMs: 1, release: () => released++ })));
    assert.equal(binary.outcome.status === 'failed' && binary.outcome.reason, 'bad_summary');
    assert.match(binary.outcome.status === 'failed' ? binary.outcome.message : '', /not valid UTF-8/);
    assert.equal(binary.body, undefined, 'nothing is handed on');
    assert.equal(released, 1, 'the rejected body\'s buffer is given back');
    const late = await scrapeNode(job, deps(async () => assert.fail('must not fetch'), 250_000));
    assert.equal(late.outcome.status === 'failed' && late.outcome.reason, 'too_late');
  });
});

describe('scrape job: its nodes at once', () => {
  const nodes = ['a', 'b', 'c', 'd'].map((n) => ({ nodeName: n, kubeletUrl: `https://${n}:10250` }));
  const batch = { windowStartMs: 60_000, deadlineMs: 200_000, nodes };
  const record = (status: 'ok' | 'failed'): NodeRecord =>
    status === 'ok' ? { status, bytes: 1, durationMs: 1, receivedAtMs: 1 } : { status, reason: 'timeout', message: 'slow', durationMs: 1 };

  it('scrapes and processes every node with the job\'s window and deadline, and counts what became of them', async () => {
    const done: NodeScrape[] = [];
    const result = await runScrapeJob(batch, false, {
      limit: new InFlightLimit(64),
      recorded: async () => assert.fail('a first run reads no outcomes'),
      scrapeAndProcess: async (node) => {
        done.push(node);
        return record(node.nodeName === 'c' ? 'failed' : 'ok');
      },
    });
    assert.deepEqual(result, { ok: 3, failed: 1, alreadyRecorded: 0 });
    assert.deepEqual(done.map((n) => [n.nodeName, n.kubeletUrl, n.windowStartMs, n.deadlineMs]), nodes.map((n) => [n.nodeName, n.kubeletUrl, 60_000, 200_000]));
  });

  it('a job run again scrapes only the nodes with no outcome yet; a node that throws fails the job after the others are done', async () => {
    const done: string[] = [];
    const deps = {
      limit: new InFlightLimit(64),
      recorded: async (_w: number, names: readonly string[]) => new Set(names.filter((n) => n === 'a' || n === 'b')),
      scrapeAndProcess: async (node: NodeScrape) => {
        if (node.nodeName === 'c') throw new Error('Redis went away');
        // Slower than the failure: a job that failed at the first error would reject before this.
        await new Promise((r) => setTimeout(r, 20));
        done.push(node.nodeName);
        return record('ok');
      },
    };
    await assert.rejects(runScrapeJob(batch, true, deps), /Redis went away/);
    assert.deepEqual(done, ['d'], 'recorded nodes are not scraped again; the rest still are');
  });

  it('takes the one-node jobs of a scheduler from before batching', async () => {
    const done: string[] = [];
    const result = await runScrapeJob(job, false, { limit: new InFlightLimit(1), recorded: async () => new Set(), scrapeAndProcess: async (node) => (done.push(node.kubeletUrl), record('ok')) });
    assert.deepEqual([done, result.ok], [['https://10.0.0.1:10250'], 1]);
  });

  it('InFlightLimit holds the node scrapes in flight across jobs to its limit, and runs every one', async () => {
    const limit = new InFlightLimit(3);
    let running = 0;
    let most = 0;
    const work = async (): Promise<number> => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return 1;
    };
    const results = await Promise.all(Array.from({ length: 20 }, () => limit.run(work)));
    assert.equal(results.length, 20);
    assert.equal(most, 3);
    await assert.rejects(limit.run(async () => assert.fail('boom')), /boom/);
    assert.equal(await limit.run(async () => 7), 7, 'a failed run gives its slot back');
  });
});

describe('kubelet client: response buffers reused', () => {
  // A chunked response (no Content-Length, as kubelets answer) of `bytes`, written 16 KiB at a time.
  const body = (bytes: number, fill: string): Buffer => Buffer.from(`{"node":{"nodeName":"${fill.repeat(Math.ceil(bytes / fill.length)).slice(0, bytes - 25)}"}}`);
  let server: Server;
  let url = '';
  before(async () => {
    server = createServer((request, response) => {
      const query = new URL(request.url!, 'http://x').searchParams;
      const bytes = Number(query.get('bytes'));
      const data = body(bytes, request.url!.slice(-1));
      if (query.has('status')) {
        response.writeHead(Number(query.get('status')), { 'content-type': 'text/plain' });
        response.end(`Internal Error: ${'x'.repeat(bytes)}`);
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      // Part of the body, then nothing: a kubelet that stalls mid-response.
      if (query.has('stall')) return void response.write(data.subarray(0, 20_000));
      for (let at = 0; at < data.length; at += 16_384) response.write(data.subarray(at, at + 16_384));
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stats/summary`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('bodies in use each have their own buffer; a released one is read into again; a body past the buffer grows it intact', async () => {
    const client = new KubeletClient({ timeoutMs: 5000, maxResponseBytes: 1 << 20, reusedBodyBuffers: 2 });
    try {
      const [a, b] = await Promise.all([client.fetchSummary('a', `${url}?bytes=3000&a`), client.fetchSummary('b', `${url}?bytes=3000&b`)]);
      assert.notEqual(a.body.buffer, b.body.buffer, 'two bodies at once never share a buffer');
      assert.deepEqual([a.body, b.body], [body(3000, 'a'), body(3000, 'b')]);
      a.release();
      a.release();
      assert.equal(client.bodyBuffers.freeCount, 1, 'given back once, however often released');
      const c = await client.fetchSummary('c', `${url}?bytes=300000&c`);
      assert.deepEqual(c.body, body(300_000, 'c'), 'read whole past the 64 KiB the buffer started with');
      assert.deepEqual(b.body, body(3000, 'b'), 'a body not yet released is left as it was');
      c.release();
      const d = await client.fetchSummary('d', `${url}?bytes=200000&d`);
      assert.equal(d.body.buffer, c.body.buffer, 'the grown buffer is reused');
      assert.deepEqual(d.body, body(200_000, 'd'));
      await assert.rejects(client.fetchSummary('e', `${url}?bytes=2000000&e`), (e: unknown) => e instanceof ScrapeError && e.reason === 'too_large');
      d.release();
      b.release();
      assert.equal(client.bodyBuffers.freeCount, 2, 'no more kept than asked, the refused response\'s included');
    } finally {
      await client.close();
    }
  });

  it('a body that stalls past the deadline fails as timeout and gives its buffer back; an error status quotes the start of its body', async () => {
    const client = new KubeletClient({ timeoutMs: 300, maxResponseBytes: 1 << 20, reusedBodyBuffers: 2 });
    try {
      const started = Date.now();
      await assert.rejects(client.fetchSummary('s', `${url}?bytes=100000&stall&s`), (e: unknown) => e instanceof ScrapeError && e.reason === 'timeout');
      assert.ok(Date.now() - started < 2000, 'failed at the deadline, not at an idle timeout');
      assert.equal(client.bodyBuffers.freeCount, 1, 'the half-read body\'s buffer is back');
      await assert.rejects(client.fetchSummary('h', `${url}?bytes=5000&status=500&h`), (e: unknown) => {
        assert.ok(e instanceof ScrapeError && e.reason === 'http_error');
        assert.match(e.message, /HTTP 500: Internal Error: x+$/);
        assert.ok(e.message.length < 300, 'the body is quoted, not copied whole');
        return true;
      });
    } finally {
      await client.close();
    }
  });
});

describe('kubelet client from the flags', () => {
  it('verifies kubelet certificates unless told not to, by the source or the flag', async () => {
    const clientOf = (...args: string[]) => kubeletClientFrom(reader(loadConfig(SCRAPER_ROLE_OPTIONS, ['--source=kubernetes.summary_api:https://api.test?inClusterConfig=false', ...args], {}).values));
    const clients = [clientOf(), clientOf('--kubelet-insecure-tls'), clientOf('--source=kubernetes.summary_api:https://api.test?inClusterConfig=false&insecure=true')];
    assert.deepEqual(clients.map((c) => c.verifiesTls), [true, false, false]);
    await Promise.all(clients.map((c) => c.close()));
  });


  it('sends the token the file holds now: a rotated token is used once it is read again', async () => {
    const authorizations: (string | undefined)[] = [];
    const server = createServer((request, response) => {
      authorizations.push(request.headers.authorization);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stats/summary`;
    const tokenFile = join(scratchDir('kubelet-token'), 'token');
    writeFileSync(tokenFile, 'first-token\n');
    const get = reader(loadConfig(SCRAPER_ROLE_OPTIONS, ['--source=kubernetes.summary_api:https://api.test?inClusterConfig=false', `--kubelet-token-file=${tokenFile}`], {}).values);
    // Read again at every request here; the role reads it every minute.
    const client = kubeletClientFrom(get, 0);
    try {
      (await client.fetchSummary('n1', url)).release();
      writeFileSync(tokenFile, 'rotated-token\n');
      (await client.fetchSummary('n1', url)).release();
      assert.deepEqual(authorizations, ['Bearer first-token', 'Bearer rotated-token']);
    } finally {
      await client.close();
      server.close();
    }
  });
});
