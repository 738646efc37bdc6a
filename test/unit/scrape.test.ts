import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMetricSets } from '../../services/common/batch-codec.js';
import { ScrapeError } from '../../services/scraper/kubelet-client.js';
import { scrapeNode, type ScrapeDeps } from '../../services/scraper/scrape.js';
import { summaryFixture } from '../helpers.js';

const job = { windowStartMs: 60_000, nodeName: 'node1', kubeletUrl: 'https://10.0.0.1:10250', deadlineMs: 200_000 };
const deps = (fetch: ScrapeDeps['fetchSummary'], nowMs = 100_000): ScrapeDeps => ({ fetchSummary: fetch, maxResponseBytes: 1 << 20, now: () => nowMs });

describe('scrape handler', () => {
  it('fetches /stats/summary and hands the processor the parsed sets', async () => {
    let askedUrl = '';
    const result = await scrapeNode(job, deps(async (_node, url) => {
      askedUrl = url;
      return { body: Buffer.from(summaryFixture('telegraf_stats_summary.json')), receivedAtMs: 100_100, latencyMs: 12 };
    }));
    assert.equal(askedUrl, 'https://10.0.0.1:10250/stats/summary');
    assert.equal(result.outcome.status, 'ok');
    const sets = decodeMetricSets(result.batch!);
    assert.ok(sets.some((s) => s.key === 'namespace:foons/pod:foopod'));
    assert.ok(sets.some((s) => s.values['memory/page_faults'] === 4769397409), 'a counter above 2^32 arrives intact');
  });
  it('a kubelet error, bad JSON or a job past its deadline becomes a failed outcome with its reason; nothing is thrown', async () => {
    const refused = await scrapeNode(job, deps(async () => {
      throw new ScrapeError('node1', 'unauthorized', 'HTTP 401');
    }));
    assert.deepEqual([refused.outcome.status, refused.outcome.status === 'failed' && refused.outcome.reason], ['failed', 'unauthorized']);
    const garbage = await scrapeNode(job, deps(async () => ({ body: Buffer.from('{"node": {'), receivedAtMs: 1, latencyMs: 1 })));
    assert.equal(garbage.outcome.status === 'failed' && garbage.outcome.reason, 'bad_summary');
    assert.equal(garbage.batch, undefined);
    const late = await scrapeNode(job, deps(async () => assert.fail('must not fetch'), 250_000));
    assert.equal(late.outcome.status === 'failed' && late.outcome.reason, 'too_late');
  });
});
