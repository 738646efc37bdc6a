import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { request } from 'undici';
import { startApi } from '../../services/api/main.js';
import { JOB_ID, SCRAPE_SHARDS } from '../../services/common/keys.js';
import { openRuntime } from '../../services/common/runtime.js';
import { PipelineHarness } from '../pipeline-harness.js';
import { scratchDir } from '../helpers.js';

/** Debian's chromium, started as the machine's notes say (no sandbox as root, no background networking). */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('Bull Board in headless Chromium', () => {
  let harness: PipelineHarness;
  let browser: Browser;
  const sinkDown = createServer((_request, response) => void response.writeHead(500).end('{"error":"down"}'));
  let secured = '';
  before(async () => {
    await new Promise<void>((r) => sinkDown.listen(0, '127.0.0.1', () => r()));
    const sinkUrl = `http://127.0.0.1:${(sinkDown.address() as { port: number }).port}`;
    harness = await PipelineHarness.start({ nodes: 2, podsPerNode: 2, seed: 8 }, [`--sink=influxdb:${sinkUrl}?db=k8s`, '--sink-retry-attempts=1']);
    await harness.startAll();
    const dir = scratchDir('board');
    writeFileSync(join(dir, 'tokens'), 'board-token\n');
    const args = [...harness.args, `--sink=influxdb:${sinkUrl}?db=k8s`, '--api-address=0.0.0.0:0', `--api-token-file=${join(dir, 'tokens')}`];
    const runtime = openRuntime(PipelineHarness.config(args), 'board');
    harness.runtimes.push(runtime);
    const api = await startApi(runtime, PipelineHarness.config(args));
    harness.services.push(api);
    secured = `http://127.0.0.1:${(api.server.address() as { port: number }).port}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await harness?.stop();
    sinkDown.close();
  });

  it('shows every queue and a failed export job, with its reason', async () => {
    const window = await harness.waitForWindow((s) => s.okNodes === 2);
    const queue = harness.runtime.queues.export('influxdb');
    const jobId = JOB_ID.export('influxdb', window.windowStartMs);
    const deadline = Date.now() + 20_000;
    while ((await (await queue.getJob(jobId))?.getState()) !== 'failed' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const page = await browser.newPage();
    await page.goto(`${harness.apiUrl}/queues`);
    for (const name of ['scrape-0', `scrape-${SCRAPE_SHARDS - 1}`, 'finalize', 'export-store', 'export-influxdb']) {
      await page.getByText(name, { exact: true }).first().waitFor({ timeout: 15_000 });
    }
    await page.goto(`${harness.apiUrl}/queues/queue/export-influxdb?status=failed`);
    await page.getByText(jobId).first().waitFor({ timeout: 15_000 });
    await page.getByText(/HTTP 500/).first().waitFor({ timeout: 15_000 });
    await page.close();
  });

  it('off loopback, Bull Board and the APIs refuse a request without credentials and serve one with them', async () => {
    const bare = await request(`${secured}/queues`);
    await bare.body.dump();
    assert.equal(bare.statusCode, 401);
    const context = await browser.newContext({ extraHTTPHeaders: { authorization: 'Bearer board-token' } });
    const page = await context.newPage();
    await page.goto(`${secured}/queues`);
    await page.getByText('export-influxdb', { exact: true }).first().waitFor({ timeout: 15_000 });
    await context.close();
  });
});
