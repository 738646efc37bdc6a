import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetricSet } from '../../services/common/metric-set.js';
import { backoffDelayMs, classifyStatus, parseRetryAfterMs } from '../../services/exporter/retry.js';
import { parseSink, parseSinks } from '../../services/common/sink-config.js';
import { batchLines, encodeInfluxLines, fieldValue } from '../../services/exporter/sinks/influxdb-encode.js';

const containerSet: MetricSet = {
  key: 'namespace:shop/pod:web-1/container:nginx',
  type: 'pod_container',
  labels: { type: 'pod_container', namespace_name: 'shop', pod_name: 'web-1', container_name: 'nginx', nodename: 'n1', hostname: 'n1', pod_id: 'uid-1', namespace_id: 'ns-uid', labels: 'app:web,tier:front end', host_id: '' },
  scrapeTimeMs: 0,
  sampleTimesMs: {},
  values: { 'cpu/usage': 2n ** 60n, 'cpu/usage_rate': 250, 'memory/working_set': 1024, 'memory/page_faults_rate': 3 },
  labeled: [{ name: 'filesystem/inodes_free', labels: { resource_id: '/' }, value: 2n ** 64n - 1n }],
};

describe('sink configuration', () => {
  it("reads every InfluxDB option with Heapster's defaults", () => {
    assert.deepEqual(parseSink('influxdb:http://influx:8086'), {
      kind: 'influxdb', name: 'influxdb', url: 'http://influx:8086', user: 'root', password: 'root', db: 'k8s', retention: '0', insecureSsl: false,
      withFields: false, clusterName: 'default', disableCounterMetrics: false, concurrency: 1, org: '', bucket: 'k8s', batchPoints: 10_000, batchBytes: 5_000_000,
    });
    const full = parseSink('influxdb:influx:8086?user=u&pw=p&db=m&retention=7d&secure=true&insecuressl=true&withfields=true&cluster_name=c&disable_counter_metrics=true&concurrency=4&token=t&org=o&bucket=b');
    assert.equal(full.kind === 'influxdb' && `${full.url} ${full.retention} ${full.withFields} ${full.token} ${full.org}/${full.bucket} ${full.concurrency}`, 'https://influx:8086 7d true t o/b 4');
  });
  it('reads every Elasticsearch option, nodes repeated or from the URL', () => {
    const es = parseSink('elasticsearch:?nodes=http://a:9200&nodes=http://b:9200&index=k8s&esUserName=u&esUserSecret=s&maxRetries=5&healthCheck=false&sniff=true&startupHealthcheckTimeout=3&bulkWorkers=2&pipeline=p&cluster_name=c&dataStream=true');
    assert.equal(es.kind, 'elasticsearch');
    if (es.kind !== 'elasticsearch') return;
    assert.deepEqual([es.nodes, es.index, es.username, es.maxRetries, es.healthCheck, es.sniff, es.startupHealthcheckTimeoutSeconds, es.bulkWorkers, es.pipeline, es.clusterName, es.dataStream], [['http://a:9200', 'http://b:9200'], 'k8s', 'u', 5, false, true, 3, 2, 'p', 'c', true]);
  });
  it('an unknown or malformed option is an error naming it', () => {
    assert.throws(() => parseSink('influxdb:http://x:8086?dbb=k8s'), /unknown option "dbb"/);
    assert.throws(() => parseSink('influxdb:http://x:8086?withfields=yes&concurrency=0'), /withfields=yes: must be true or false.*concurrency=0: must be a whole number of at least 1/);
    assert.throws(() => parseSink('elasticsearch:http://x:9200?bulkworkers=3'), /unknown option "bulkworkers"/);
    assert.throws(() => parseSink('kafka:localhost'), /unknown sink kind "kafka"/);
    assert.throws(() => parseSink('influxdb:http://x?token=t'), /org: required with token/);
    assert.throws(() => parseSink('influxdb:ftp://x:8086'), /ftp:\/\/x:8086: must be an http or https URL/, 'another scheme is refused, not taken for a host');
  });
  it('several sinks of one kind get distinct names (one queue each)', () => {
    assert.deepEqual(parseSinks(['influxdb:http://a:8086', 'log', 'influxdb:http://b:8086']).map((s) => s.name), ['influxdb', 'log', 'influxdb-2']);
  });
});

describe('InfluxDB line protocol', () => {
  it('default schema: a measurement per metric, field value, tags without Heapster\'s exclusions or empty values, plus cluster_name', () => {
    const lines = encodeInfluxLines([containerSet], 1_700_000_000_000, { withFields: false, clusterName: 'prod', disableCounterMetrics: false });
    const tags = ',cluster_name=prod,container_name=nginx,labels=app:web\\,tier:front\\ end,namespace_name=shop,nodename=n1,pod_name=web-1,type=pod_container';
    assert.ok(lines.includes(`cpu/usage_rate${tags} value=250i 1700000000000`));
    assert.ok(lines.includes(`memory/page_faults_rate${tags} value=3.0 1700000000000`), 'float metrics stay floats even when whole');
    assert.ok(lines.includes(`cpu/usage${tags} value=${2n ** 60n}i 1700000000000`), 'exact above 2^53');
    assert.ok(lines.includes(`filesystem/inodes_free${tags.replace(',type=', ',resource_id=/,type=')} value=9223372036854775807i 1700000000000`), 'uint64 above int64 is capped');
    assert.ok(lines.every((l) => !/pod_id|namespace_id|hostname|host_id/.test(l)));
  });
  it('withfields: a measurement per family, the rest of the name as field, one line per set and family', () => {
    const lines = encodeInfluxLines([containerSet], 1000, { withFields: true, clusterName: 'default', disableCounterMetrics: true });
    const cpu = lines.filter((l) => l.startsWith('cpu,'));
    assert.equal(cpu.length, 1);
    assert.match(cpu[0]!, / usage_rate=250i 1000$/, 'disable_counter_metrics drops cpu/usage (it has a rate)');
    assert.match(lines.find((l) => l.startsWith('memory,'))!, / working_set=1024i,page_faults_rate=3.0 1000$/);
    assert.match(lines.find((l) => l.startsWith('filesystem,'))!, /,resource_id=\/,.* inodes_free=9223372036854775807i 1000$/);
  });
  it('batches are bounded in points and bytes', () => {
    const lines = Array.from({ length: 25 }, (_, i) => `m value=${i}i ${i}`);
    assert.deepEqual(batchLines(lines, 10, 1_000_000).map((b) => b.length), [10, 10, 5]);
    assert.ok(batchLines(lines, 1000, 40).every((b) => b.join('\n').length <= 40));
    assert.equal(fieldValue('cpu/usage_rate', Number.NaN), undefined);
  });
});

describe('retry classification', () => {
  it('retries 429, 5xx, timeouts and auth problems; rejects other 4xx', () => {
    assert.deepEqual([200, 204, 400, 404, 413, 401, 408, 429, 500, 503].map(classifyStatus), ['ok', 'ok', 'reject', 'reject', 'reject', 'retry', 'retry', 'retry', 'retry', 'retry']);
  });
  it('reads Retry-After as seconds or a date, and backs off exponentially with jitter, at least Retry-After', () => {
    assert.equal(parseRetryAfterMs('7'), 7000);
    assert.equal(parseRetryAfterMs('Thu, 01 Jan 2099 00:00:10 GMT', Date.parse('2099-01-01T00:00:00Z')), 10_000);
    assert.equal(parseRetryAfterMs('soon'), undefined);
    assert.deepEqual([1, 2, 3, 10].map((a) => backoffDelayMs(a, 1000, 60_000, undefined, () => 1)), [1000, 2000, 4000, 60_000]);
    assert.equal(backoffDelayMs(3, 1000, 60_000, undefined, () => 0), 2000);
    assert.equal(backoffDelayMs(1, 1000, 60_000, 30_000, () => 1), 30_000);
  });
});
