import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { WindowSummary } from '../../services/common/jobs.js';
import { createLogger } from '../../services/common/logger.js';
import type { MetricSet } from '../../services/common/metric-set.js';
import { SinkWriteError } from '../../services/exporter/retry.js';
import { parseSink, type InfluxSinkConfig } from '../../services/common/sink-config.js';
import { InfluxSink } from '../../services/exporter/sinks/influxdb.js';

const set: MetricSet = { key: 'node:n1', type: 'node', labels: { type: 'node', nodename: 'n1' }, scrapeTimeMs: 0, sampleTimesMs: {}, values: { 'cpu/usage_rate': 1200, 'memory/working_set': 4096 }, labeled: [] };
const summary = { windowStartMs: 0, windowEndMs: 60_000 } as WindowSummary;
const window = { summary, async *chunks() { yield [set]; } };

describe('InfluxDB 2.x API (through @influxdata/influxdb-client, at the HTTP level)', () => {
  const requests: { url: string; auth: string | undefined; body: string }[] = [];
  let reply: { status: number; headers?: Record<string, string>; body?: string } = { status: 204 };
  const server = createServer(async (request: IncomingMessage, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    requests.push({ url: request.url ?? '', auth: request.headers.authorization, body });
    response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    response.end(reply.body ?? '');
  });
  let url = '';
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => server.close());

  const sink = (): { sink: InfluxSink; counts: Record<string, number> } => {
    const counts: Record<string, number> = {};
    const config = parseSink(`influxdb:${url}?token=secret-token&org=acme&bucket=k8s-metrics&withfields=true`) as InfluxSinkConfig;
    return { counts, sink: new InfluxSink(config, { add: async (name, n) => void (counts[name] = (counts[name] ?? 0) + n) }, createLogger('test', 'silent')) };
  };

  it('writes to /api/v2/write with org, bucket, ms precision and the token', async () => {
    reply = { status: 204 };
    const { sink: influx, counts } = sink();
    await influx.write(window);
    const last = requests[requests.length - 1]!;
    const query = new URL(last.url, url).searchParams;
    assert.equal(new URL(last.url, url).pathname, '/api/v2/write');
    assert.deepEqual([query.get('org'), query.get('bucket'), query.get('precision')], ['acme', 'k8s-metrics', 'ms']);
    assert.equal(last.auth, 'Token secret-token');
    assert.equal(last.body.trim(), 'cpu,cluster_name=default,nodename=n1,type=node usage_rate=1200i 60000\nmemory,cluster_name=default,nodename=n1,type=node working_set=4096i 60000');
    assert.deepEqual(counts, { points_written: 2 });
    await influx.close();
  });

  it('an unreachable server is a retryable error naming it without the password its URL carries (1.x and 2.x)', async () => {
    for (const options of ['db=k8s', 'token=t&org=acme']) {
      const config = parseSink(`influxdb:http://admin:url-secret@127.0.0.1:1?${options}`) as InfluxSinkConfig;
      const unreachable = new InfluxSink(config, { add: async () => undefined }, createLogger('test', 'silent'));
      await assert.rejects(unreachable.write(window), (error: unknown) => {
        assert.ok(error instanceof SinkWriteError && error.retryable, String(error));
        assert.match(error.message, /InfluxDB at http:\/\/127\.0\.0\.1:1\/? unreachable/);
        assert.doesNotMatch(error.message, /url-secret/);
        return true;
      });
      await unreachable.close();
    }
  });

  it('429 with Retry-After is retryable with that delay; 400 is counted as rejected, not retried', async () => {
    reply = { status: 429, headers: { 'retry-after': '9' }, body: '{"code":"too many requests"}' };
    const { sink: throttled } = sink();
    await assert.rejects(throttled.write(window), (error: unknown) => error instanceof SinkWriteError && error.retryable && error.retryAfterMs === 9000);
    reply = { status: 400, body: '{"code":"invalid","message":"field type conflict"}' };
    const { sink: rejecting, counts } = sink();
    await rejecting.write(window);
    assert.deepEqual(counts, { points_written: 0, points_rejected: 2 });
  });
});
