import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScrapeError } from '../../services/scraper/kubelet-client.js';
import { scrapeNode, type ScrapeDeps } from '../../services/scraper/scrape.js';
import { summaryFixture } from '../helpers.js';

const job = { windowStartMs: 60_000, nodeName: 'node1', kubeletUrl: 'https://10.0.0.1:10250', deadlineMs: 200_000 };
const deps = (fetch: ScrapeDeps['fetchSummary'], nowMs = 100_000): ScrapeDeps => ({ fetchSummary: fetch, maxResponseBytes: 1 << 20, now: () => nowMs });

describe('scrape handler', () => {
  it('fetches /stats/summary and hands processing the summary as the kubelet sent it', async () => {
    let askedUrl = '';
    const text = summaryFixture('telegraf_stats_summary.json');
    const result = await scrapeNode(job, deps(async (_node, url) => {
      askedUrl = url;
      return { body: Buffer.from(text), receivedAtMs: 100_100, latencyMs: 12 };
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
    const binary = await scrapeNode(job, deps(async () => ({ body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), receivedAtMs: 1, latencyMs: 1 })));
    assert.equal(binary.outcome.status === 'failed' && binary.outcome.reason, 'bad_summary');
    assert.match(binary.outcome.status === 'failed' ? binary.outcome.message : '', /not valid UTF-8/);
    assert.equal(binary.body, undefined, 'nothing is handed on');
    const late = await scrapeNode(job, deps(async () => assert.fail('must not fetch'), 250_000));
    assert.equal(late.outcome.status === 'failed' && late.outcome.reason, 'too_late');
  });
});
