import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { startApi } from '../../services/api/main.js';
import { openRuntime } from '../../services/common/runtime.js';
import { freePort } from '../../simulator/redis-server.js';
import { PipelineHarness } from '../pipeline-harness.js';

async function promtool(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code: code ?? 1, output }));
    child.stdin.end(text);
  });
}

/** The value of the first sample of `name` whose labels include `labels` (exposition text). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

async function scrapeMetrics(url: string): Promise<string> {
  const response = await request(url);
  assert.equal(response.statusCode, 200, url);
  return response.body.text();
}

describe('self-metrics of every role (roles as their own processes)', () => {
  let harness: PipelineHarness;
  const ports: Record<string, number> = {};
  let apiUrl = '';
  before(async () => {
    harness = await PipelineHarness.start({ nodes: 2, podsPerNode: 2, seed: 6 }, ['--kubelet-request-timeout=1s']);
    await harness.simulator.setFault(harness.simulator.cluster.nodes[0]!.name, 'error500');
    for (const role of ['scheduler', 'scraper', 'processor', 'exporter'] as const) {
      ports[role] = await freePort();
      harness.spawnRole(role, [`--metrics-address=127.0.0.1:${ports[role]}`]);
    }
    const runtime = openRuntime(PipelineHarness.config(harness.args), 'api');
    harness.runtimes.push(runtime);
    const api = await startApi(runtime, PipelineHarness.config(harness.args));
    harness.services.push(api);
    apiUrl = `http://127.0.0.1:${(api.server.address() as { port: number }).port}`;
  });
  after(async () => harness?.stop());

  it('promtool accepts every role\'s /metrics, and they report scrapes, windows, rate skips, queues and sink writes', async () => {
    const first = await harness.waitForWindow((s) => s.okNodes === 1, 40_000);
    const second = await harness.nextWindow(first.windowStartMs, (s) => s.okNodes === 1);
    const pod = [...harness.simulator.cluster.nodes[1]!.pods.values()][0]!;
    harness.simulator.cluster.restartContainer(pod.namespace, pod.name, pod.containers[0]!.name);
    await harness.nextWindow(second.windowStartMs, (s) => s.okNodes === 1);
    await new Promise((r) => setTimeout(r, 500));
    const texts: Record<string, string> = {};
    for (const role of Object.keys(ports)) texts[role] = await scrapeMetrics(`http://127.0.0.1:${ports[role]}/metrics`);
    texts.api = await scrapeMetrics(`${apiUrl}/metrics`);
    for (const base of [...Object.values(ports).map((p) => `http://127.0.0.1:${p}`), apiUrl]) {
      for (const path of ['/healthz', '/livez', '/readyz']) {
        const response = await request(`${base}${path}`);
        assert.equal(response.statusCode, 200, `${base}${path}: ${await response.body.text()}`);
      }
    }
    for (const [role, text] of Object.entries(texts)) {
      const check = await promtool(text);
      assert.equal(check.code, 0, `${role}: ${check.output}`);
      assert.ok(sample(text, 'podometer_queue_jobs', { queue: 'scrape', state: 'completed' })! >= 2, `${role} reports queue depths`);
    }
    const failedNode = harness.simulator.cluster.nodes[0]!.name;
    assert.ok(sample(texts.scraper!, 'podometer_scrapes_total', { outcome: 'failed', reason: 'http_error' })! >= 1);
    assert.equal(sample(texts.scraper!, 'podometer_node_scrape_success', { node: failedNode }), 0);
    assert.equal(sample(texts.scraper!, 'podometer_node_scrape_success', { node: harness.simulator.cluster.nodes[1]!.name }), 1);
    assert.ok(sample(texts.scraper!, 'podometer_scrape_duration_seconds_count', { outcome: 'ok' })! >= 2);
    assert.ok(sample(texts.processor!, 'podometer_windows_finalized_total', { by: 'complete' })! >= 3);
    assert.equal(sample(texts.processor!, 'podometer_window_nodes', { outcome: 'failed' }), 1);
    assert.ok(sample(texts.scraper!, 'podometer_rate_skips_total', { reason: 'restart' })! >= 1);
    assert.ok(sample(texts.processor!, 'podometer_window_latency_seconds_count', {})! >= 2);
    assert.ok(sample(texts.exporter!, 'podometer_sink_write_duration_seconds_count', { sink: 'store' })! >= 2);
    assert.ok(sample(texts.api!, 'podometer_process_resident_memory_bytes', { role: 'api' })! > 0);
  });
});
