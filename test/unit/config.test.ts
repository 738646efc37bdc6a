import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, inClusterApiServerUrl, loadConfig, parseDurationMs, type OptionSpec } from '../../services/common/config.js';
import { checkRedisUrl } from '../../services/common/redis.js';
import { checkSink } from '../../services/common/sink-config.js';

const SPECS: OptionSpec[] = [
  { name: 'metric_resolution', type: 'duration', min: 5000, default: 60_000, description: 'window' },
  { name: 'nodes', type: 'integer', min: 1, default: 5, description: 'nodes' },
  { name: 'format', type: 'string', choices: ['json', 'table'], default: 'table', description: 'format' },
  { name: 'sink', type: 'list', default: [], description: 'sinks' },
];

describe('config', () => {
  it('reads Heapster underscore and hyphen spellings, = and space forms', () => {
    const { values } = loadConfig(SPECS, ['--metric-resolution=15s', '--nodes', '7', '--sink', 'a', '--sink=b,c'], {});
    assert.equal(values['metric-resolution'], 15_000);
    assert.equal(values.nodes, 7);
    assert.deepEqual(values.sink, ['a', 'b', 'c']);
  });

  it('takes the environment when no flag is given, and the flag over it', () => {
    assert.equal(loadConfig(SPECS, [], { PODOMETER_NODES: '9' }).values.nodes, 9);
    assert.equal(loadConfig(SPECS, ['--nodes=3'], { PODOMETER_NODES: '9' }).values.nodes, 3);
  });

  it('reports every problem at once', () => {
    try {
      loadConfig(SPECS, ['--metric_resolution=1s', '--nodes=zero', '--format=xml', '--bogus'], { });
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 4, error.message);
      assert.match(error.message, /unknown flag --bogus/);
      assert.match(error.message, /--metric-resolution|--metric_resolution/);
      assert.match(error.message, /must be at least 5000/);
      assert.match(error.message, /must be a whole number/);
      assert.match(error.message, /must be one of json, table/);
    }
  });

  it('names every problem without echoing a secret: a URL\'s password, pw=, token=', () => {
    const specs: OptionSpec[] = [
      { name: 'redis-url', type: 'string', description: 'r', check: checkRedisUrl },
      { name: 'sink', type: 'strings', description: 's', check: checkSink },
    ];
    try {
      loadConfig(specs, ['--redis-url', 'redis://:redis-secret@redis:port', '--sink', 'influxdb:http://admin:influx-secret@influx:8086?user=admin&pw=pw-secret&db=k8s&token=token-secret&orgg=o', '--sink', 'elasticsearch:http://es:9200?esUserSecret=es-secret&apiKey=key-secret&index=BAD'], {});
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 3, error.message);
      assert.doesNotMatch(error.message, /-secret/, 'no secret given is shown');
      assert.match(error.message, /--redis-url="redis:\/\/:\[redacted\]@redis:port": must be a URL/);
      assert.match(error.message, /influxdb:http:\/\/admin:\[redacted\]@influx:8086\?user=admin&pw=\[redacted\]&db=k8s&token=\[redacted\]&orgg=o": unknown option "orgg"/, 'the rest is shown as given');
      assert.match(error.message, /esUserSecret=\[redacted\]&apiKey=\[redacted\]&index=BAD": index=BAD: lowercase/);
    }
  });

  it('parses Go durations', () => {
    assert.equal(parseDurationMs('1m30s'), 90_000);
    assert.equal(parseDurationMs('500ms'), 500);
    assert.equal(parseDurationMs('60'), 60_000);
    assert.equal(parseDurationMs('5 minutes'), undefined);
  });
});

describe('the API server as a pod sees it', () => {
  it('is https://KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT (IPv6 in brackets), and nothing outside a pod', () => {
    assert.equal(inClusterApiServerUrl({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }), 'https://10.96.0.1:443');
    assert.equal(inClusterApiServerUrl({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }), 'https://[fd00::1]:443');
    assert.equal(inClusterApiServerUrl({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }), undefined);
  });
});
