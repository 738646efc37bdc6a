import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { createRequire } from 'node:module';
import type { WindowSummary } from '../../services/common/jobs.js';
import { createLogger } from '../../services/common/logger.js';
import type { MetricSet } from '../../services/common/metric-set.js';
import { SinkWriteError } from '../../services/exporter/retry.js';
import { parseSink, type ElasticsearchSinkConfig } from '../../services/common/sink-config.js';
import type { WindowBatch } from '../../services/exporter/sink.js';
import { ElasticsearchSink } from '../../services/exporter/sinks/elasticsearch.js';
import { classifyBulkItems, encodeEsDocuments } from '../../services/exporter/sinks/elasticsearch-encode.js';

// The mock is CommonJS with a default-export declaration; load it as CommonJS.
type MockClass = (typeof import('@elastic/elasticsearch-mock'))['default'];
const Mock = createRequire(import.meta.url)('@elastic/elasticsearch-mock') as MockClass;
type Mock = InstanceType<MockClass>;
type Params = { path: string | string[]; body?: unknown };

const WINDOW_END_MS = Date.parse('2026-11-22T10:01:00Z');
const podSet: MetricSet = {
  key: 'namespace:shop/pod:web-1',
  type: 'pod',
  labels: { type: 'pod', namespace_name: 'shop', pod_name: 'web-1', nodename: 'n1' },
  scrapeTimeMs: WINDOW_END_MS,
  sampleTimesMs: {},
  values: { 'cpu/usage_rate': 250, 'cpu/request': 100, 'memory/working_set': 1024, 'network/rx_rate': 12.5, uptime: 60_000 },
  labeled: [
    { name: 'filesystem/usage', labels: { resource_id: '/' }, value: 4096 },
    { name: 'filesystem/usage', labels: { resource_id: 'logs' }, value: 512 },
  ],
};

function windowOf(sets: MetricSet[]): WindowBatch {
  const summary: WindowSummary = { windowStartMs: WINDOW_END_MS - 60_000, windowEndMs: WINDOW_END_MS, scrapeAtMs: WINDOW_END_MS + 5000, expectedNodes: 1, okNodes: 1, failedNodes: {}, missedNodes: [], finalizedBy: 'complete', finalizedAtMs: WINDOW_END_MS + 6000, metricSets: sets.length, rateSkips: {} };
  return {
    summary,
    async *chunks() {
      yield sets;
    },
  };
}

const silent = createLogger('test', 'silent');

function counters(): { add(name: string, n: number): Promise<void>; values: Record<string, number> } {
  const values: Record<string, number> = {};
  return { values, add: async (name, n) => void (values[name] = (values[name] ?? 0) + n) };
}

describe("Elasticsearch documents (Heapster's shapes)", () => {
  const docs = encodeEsDocuments([podSet], WINDOW_END_MS, { index: 'heapster', clusterName: 'prod', dataStream: false });

  it('one document per family, with <Family>MetricsTimestamp, Metrics and MetricsTags, in the daily index', () => {
    const cpu = docs.find((d) => d.family === 'cpu')!;
    assert.deepEqual(cpu.body, {
      CpuMetricsTimestamp: '2026-11-22T10:01:00Z',
      Metrics: { 'cpu/usage_rate': { value: 250 }, 'cpu/request': { value: 100 } },
      MetricsTags: { ...podSet.labels, cluster_name: 'prod' },
    });
    assert.equal(cpu._index, 'heapster-2026.11.22');
    assert.deepEqual(docs.map((d) => d.family).sort(), ['cpu', 'filesystem', 'filesystem', 'general', 'memory', 'network']);
    const rootFs = docs.find((d) => d.family === 'filesystem' && (d.body.MetricsTags as Record<string, string>).resource_id === '/')!;
    assert.deepEqual(rootFs.body.Metrics, { 'filesystem/usage': { value: 4096 } });
    assert.ok('GeneralMetricsTimestamp' in docs.find((d) => d.family === 'general')!.body);
  });

  it('ids are deterministic and distinct; a data stream gets @timestamp and no daily index', () => {
    const again = encodeEsDocuments([podSet], WINDOW_END_MS, { index: 'heapster', clusterName: 'prod', dataStream: false });
    assert.deepEqual(again.map((d) => d._id), docs.map((d) => d._id));
    assert.equal(new Set(docs.map((d) => d._id)).size, docs.length);
    const stream = encodeEsDocuments([podSet], WINDOW_END_MS, { index: 'metrics-k8s', clusterName: 'prod', dataStream: true });
    assert.equal(stream[0]!._index, 'metrics-k8s');
    assert.equal(stream[0]!.body['@timestamp'], '2026-11-22T10:01:00Z');
  });

  it('bulk items: 429 and 5xx are retried, other 4xx rejected, 409 on create means already written', () => {
    assert.deepEqual(classifyBulkItems([{ status: 200 }, { status: 429 }, { status: 400, error: { type: 'mapper_parsing_exception', reason: 'bad' } }, { status: 503 }, { status: 409 }]), {
      ok: [0, 4], retry: [1, 3], rejected: [{ index: 2, reason: '400 mapper_parsing_exception: bad' }],
    });
  });
});

describe('Elasticsearch sink against the official client mock', () => {
  function sinkWithMock(mock: Mock, uri = 'elasticsearch:http://es.test:9200?index=heapster&maxRetries=3'): { sink: ElasticsearchSink; stats: ReturnType<typeof counters> } {
    const stats = counters();
    const sink = new ElasticsearchSink(parseSink(uri) as ElasticsearchSinkConfig, stats, silent, { Connection: mock.getConnection() }, 1);
    return { sink, stats };
  }

  it('a bulk reply with 200, 429, 400 and 503 items: exactly the 429 and 503 items are sent again, the 400 is reported, no id written twice', async () => {
    const mock = new Mock();
    const created: string[] = [];
    mock.add({ method: 'HEAD', path: '/' }, () => '');
    mock.add({ method: 'PUT', path: '/_index_template/:name' }, () => ({ acknowledged: true }));
    mock.add({ method: 'PUT', path: '/:index' }, (params: Params) => {
      created.push(String(params.path));
      return { acknowledged: true, index: String(params.path).slice(1) };
    });
    const requests: string[][] = [];
    const statusesFirst = [200, 429, 400, 503, 200, 200];
    mock.add({ method: 'POST', path: '/_bulk' }, (params: Params) => {
      const lines = params.body as Record<string, { _id: string; _index: string }>[];
      const ids = lines.filter((_, i) => i % 2 === 0).map((line) => line.index!._id);
      requests.push(ids);
      const statuses = requests.length === 1 ? statusesFirst : ids.map(() => 201);
      return { took: 1, errors: statuses.some((s) => s >= 300), items: ids.map((_id, i) => ({ index: { _id, status: statuses[i], ...(statuses[i]! >= 300 ? { error: { type: statuses[i] === 400 ? 'mapper_parsing_exception' : 'es_rejected_execution_exception', reason: 'test' } } : {}) } })) };
    });
    const { sink, stats } = sinkWithMock(mock);
    await sink.write(windowOf([podSet]));
    assert.equal(requests.length, 2);
    assert.deepEqual(requests[1], [requests[0]![1], requests[0]![3]], 'only the 429 and 503 items again, in order');
    assert.deepEqual(stats.values, { documents_written: 5, documents_rejected: 1 });
    const written = [...requests[0]!.filter((_, i) => statusesFirst[i] === 200), ...requests[1]!];
    assert.equal(new Set(written).size, written.length, 'no id written twice');
    assert.deepEqual(created, ['/heapster-2026.11.22']);
  });

  it('items still throttled after maxRetries fail the write as retryable (the export job backs off and retries)', async () => {
    const mock = new Mock();
    mock.add({ method: 'HEAD', path: '/' }, () => '');
    mock.add({ method: 'PUT', path: '/_index_template/:name' }, () => ({ acknowledged: true }));
    mock.add({ method: 'PUT', path: '/:index' }, () => ({ acknowledged: true }));
    let calls = 0;
    mock.add({ method: 'POST', path: '/_bulk' }, (params: Params) => {
      calls++;
      const lines = params.body as Record<string, { _id: string }>[];
      const ids = lines.filter((_, i) => i % 2 === 0).map((line) => line.index!._id);
      return { took: 1, errors: true, items: ids.map((_id) => ({ index: { _id, status: 429, error: { type: 'es_rejected_execution_exception' } } })) };
    });
    const { sink } = sinkWithMock(mock, 'elasticsearch:http://es.test:9200?maxRetries=2');
    await assert.rejects(sink.write(windowOf([podSet])), (error: unknown) => error instanceof SinkWriteError && error.retryable);
    assert.equal(calls, 3);
  });

  it('at the HTTP level: a 429 with Retry-After is retryable with that delay; a refused connection is retryable', async () => {
    const server = createServer((request, response) => {
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7', 'x-elastic-product': 'Elasticsearch' });
      response.end(JSON.stringify({ error: { type: 'too_many_requests' }, status: 429 }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const throttled = new ElasticsearchSink(parseSink(`elasticsearch:http://127.0.0.1:${port}?maxRetries=0&healthCheck=false`) as ElasticsearchSinkConfig, counters(), silent);
    await assert.rejects(throttled.write(windowOf([podSet])), (error: unknown) => error instanceof SinkWriteError && error.retryable && error.retryAfterMs === 7000);
    await throttled.close();
    server.close();
    const refused = new ElasticsearchSink(parseSink(`elasticsearch:http://127.0.0.1:${port}?maxRetries=0`) as ElasticsearchSinkConfig, counters(), silent);
    await assert.rejects(refused.write(windowOf([podSet])), (error: unknown) => error instanceof SinkWriteError && error.retryable);
    await refused.close();
  });

  it('a failed health check is retryable and names the node without the password its URL carries', async () => {
    // HEAD / answered 404: the client's ping says false.
    const server = createServer((_request, response) => response.writeHead(404, { 'x-elastic-product': 'Elasticsearch' }).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const sink = new ElasticsearchSink(parseSink(`elasticsearch:http://elastic:url-secret@127.0.0.1:${port}?maxRetries=0`) as ElasticsearchSinkConfig, counters(), silent);
    try {
      await assert.rejects(sink.write(windowOf([podSet])), (error: unknown) => {
        assert.ok(error instanceof SinkWriteError && error.retryable, String(error));
        assert.match(error.message, new RegExp(`Elasticsearch at http://127\\.0\\.0\\.1:${port}/? failed its health check`));
        assert.doesNotMatch(error.message, /url-secret/);
        return true;
      });
    } finally {
      await sink.close();
      server.close();
    }
  });
});
