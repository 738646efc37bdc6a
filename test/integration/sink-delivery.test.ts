import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { JOB_ID } from '../../services/common/keys.js';
import { PipelineHarness } from '../pipeline-harness.js';

/** An InfluxDB stand-in whose answer the test chooses: 'fail' (500), 'ok' (204) or 'hang'. */
function fakeInflux(): { server: Server; mode: { value: 'fail' | 'ok' | 'hang' }; writes: string[]; url: () => string } {
  const mode = { value: 'fail' as 'fail' | 'ok' | 'hang' };
  const writes: string[] = [];
  const server = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    if (request.url?.startsWith('/query')) return void response.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{}]}');
    if (mode.value === 'hang') return;
    if (mode.value === 'fail') return void response.writeHead(500).end('{"error":"down"}');
    writes.push(body);
    response.writeHead(204).end();
  });
  return { server, mode, writes, url: () => `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

describe('sink delivery (real Redis): failed set, operator retry, bounded backlog', () => {
  const failing = fakeInflux();
  const hanging = fakeInflux();
  let harness: PipelineHarness;
  before(async () => {
    for (const fake of [failing, hanging]) await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', () => r()));
    hanging.mode.value = 'hang';
    harness = await PipelineHarness.start({ nodes: 2, podsPerNode: 2, seed: 4 }, [
      `--sink=influxdb:${failing.url()}?db=k8s`,
      `--sink=influxdb:${hanging.url()}?db=k8s`,
      '--sink-retry-attempts=2', '--sink-retry-base=50ms', '--sink-retry-max=100ms', '--sink-backlog=2',
    ]);
    await harness.startAll();
  });
  after(async () => {
    // Let the hanging request end first, so that the workers can close.
    hanging.mode.value = 'ok';
    for (const fake of [failing, hanging]) fake.server.closeAllConnections();
    await harness?.stop();
    for (const fake of [failing, hanging]) fake.server.close();
  });

  it('a window that keeps failing moves to the failed set instead of vanishing, and an operator retry delivers it', async () => {
    const window = await harness.waitForWindow((s) => s.okNodes === 2);
    const queue = harness.runtime.queues.export('influxdb');
    const jobId = JOB_ID.export('influxdb', window.windowStartMs);
    const deadline = Date.now() + 15_000;
    while ((await (await queue.getJob(jobId))?.getState()) !== 'failed' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const job = (await queue.getJob(jobId))!;
    assert.equal(await job.getState(), 'failed');
    assert.equal(job.attemptsMade, 2);
    assert.match(job.failedReason, /HTTP 500/);
    failing.mode.value = 'ok';
    await job.retry();
    while ((await job.getState()) !== 'completed' && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await job.getState(), 'completed');
    assert.ok(failing.writes.some((body) => body.includes(` ${window.windowEndMs}\n`) || body.endsWith(` ${window.windowEndMs}`)), 'the retried window reached the sink');
  });

  it('a sink that hangs holds only its own queue: past the backlog bound windows are dropped for it and counted, the store gets every window', async () => {
    const { redis, keys } = harness.runtime;
    const start = (await harness.store.latestWindow())!;
    let last = start;
    for (let i = 0; i < 4; i++) last = (await harness.nextWindow(last, (s) => s.okNodes === 2)).windowStartMs;
    const dropped = Number(await redis.hget(keys.sinkStats('influxdb-2'), 'windows_dropped'));
    assert.ok(dropped >= 1, `windows dropped for the hanging sink: ${dropped}`);
    const waiting = await harness.runtime.queues.export('influxdb-2').getJobCountByTypes('waiting', 'delayed', 'prioritized');
    assert.ok(waiting <= 2, `backlog bounded: ${waiting} waiting`);
    assert.equal((await harness.store.windows(start, last)).length, 5, 'the store is not held up');
  });
});
