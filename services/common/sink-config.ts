/**
 * Heapster's sink flag, `--sink=<kind>:<url>?<options>`, repeatable. Every Heapster option of the
 * InfluxDB and Elasticsearch sinks is read with Heapster's default, plus what current servers
 * need. An unknown or malformed option is an error that names it.
 *
 *   influxdb:http://host:8086?user=root&pw=root&db=k8s&retention=0&secure=false&insecuressl=false
 *            &withfields=false&cluster_name=default&disable_counter_metrics=false&concurrency=1
 *            [&org=&bucket=&token=]  (InfluxDB 2.x API when `token` is given; bucket defaults to db)
 *            [&batch_points=10000&batch_bytes=5000000]
 *   elasticsearch:http://host:9200?nodes=&index=heapster&esUserName=&esUserSecret=&maxRetries=
 *            &healthCheck=true&sniff=false&startupHealthcheckTimeout=1&bulkWorkers=5&pipeline=
 *            &cluster_name=default [&apiKey=&ca=FILE&dataStream=false]
 *   log
 */
import { existsSync } from 'node:fs';
import { checkHttpUrl, OptionReader, splitUri } from './uri-options.js';

/** The short-term store is always a sink (it serves the APIs); its export queue is `export-store`. */
export const STORE_SINK = 'store';

/** Every sink's name, the store first: one export queue each. */
export function sinkNames(texts: readonly string[]): string[] {
  return [STORE_SINK, ...parseSinks(texts).map((s) => s.name)];
}

export interface InfluxSinkConfig {
  kind: 'influxdb';
  /** Queue and self-metrics name: `influxdb`, then `influxdb-2`, ... for further InfluxDB sinks. */
  name: string;
  url: string;
  user: string;
  password: string;
  db: string;
  /** Duration of the `default` retention policy created with the database ("0": forever). */
  retention: string;
  insecureSsl: boolean;
  withFields: boolean;
  clusterName: string;
  disableCounterMetrics: boolean;
  concurrency: number;
  /** InfluxDB 2.x: write with this token to org/bucket. */
  token?: string;
  org: string;
  bucket: string;
  batchPoints: number;
  batchBytes: number;
}

export interface ElasticsearchSinkConfig {
  kind: 'elasticsearch';
  name: string;
  nodes: string[];
  index: string;
  username?: string;
  password?: string;
  apiKey?: string;
  caFile?: string;
  maxRetries: number;
  healthCheck: boolean;
  sniff: boolean;
  startupHealthcheckTimeoutSeconds: number;
  bulkWorkers: number;
  pipeline?: string;
  clusterName: string;
  dataStream: boolean;
}

export interface LogSinkConfig {
  kind: 'log';
  name: string;
}

export type SinkConfig = InfluxSinkConfig | ElasticsearchSinkConfig | LogSinkConfig;

const INFLUX_OPTIONS = ['user', 'pw', 'db', 'retention', 'secure', 'insecuressl', 'withfields', 'cluster_name', 'disable_counter_metrics', 'concurrency', 'org', 'bucket', 'token', 'batch_points', 'batch_bytes'] as const;
const ES_OPTIONS = ['nodes', 'index', 'esUserName', 'esUserSecret', 'maxRetries', 'healthCheck', 'sniff', 'startupHealthcheckTimeout', 'bulkWorkers', 'pipeline', 'cluster_name', 'apiKey', 'ca', 'dataStream'] as const;

/** Parses one `--sink` value; throws an Error listing every problem. */
export function parseSink(text: string, name?: string): SinkConfig {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  const { base, params } = splitUri(rest);
  switch (kind) {
    case 'log':
      if (rest !== '') throw new Error('the log sink takes no URL or options');
      return { kind: 'log', name: name ?? 'log' };
    case 'influxdb': {
      const read = new OptionReader(params, INFLUX_OPTIONS);
      const secure = read.boolean('secure', false);
      let url = base === '' ? `${secure ? 'https' : 'http'}://localhost:8086` : base;
      // A bare host[:port] gets the scheme; any other scheme is checked (and refused) as given.
      if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) url = `${secure ? 'https' : 'http'}://${url}`;
      url = checkHttpUrl(url, read.problems);
      const db = read.string('db', 'k8s');
      if (!/^[A-Za-z0-9_.-]+$/.test(db)) read.problems.push(`db=${db}: letters, digits, _ . - only`);
      const retention = read.string('retention', '0');
      if (!/^(0|(\d+(ns|u|µ|ms|s|m|h|d|w))+|INF)$/.test(retention)) read.problems.push(`retention=${retention}: must be an InfluxQL duration such as 0, 7d or 24h`);
      const config: InfluxSinkConfig = {
        kind: 'influxdb',
        name: name ?? 'influxdb',
        url,
        user: read.string('user', 'root'),
        password: read.string('pw', 'root'),
        db,
        retention,
        insecureSsl: read.boolean('insecuressl', false),
        withFields: read.boolean('withfields', false),
        clusterName: read.string('cluster_name', 'default'),
        disableCounterMetrics: read.boolean('disable_counter_metrics', false),
        concurrency: read.integer('concurrency', 1, 1),
        org: read.string('org', ''),
        bucket: read.string('bucket', db),
        batchPoints: read.integer('batch_points', 10_000, 1),
        batchBytes: read.integer('batch_bytes', 5_000_000, 1024),
        ...(read.optional('token') ? { token: read.optional('token')! } : {}),
      };
      if (config.token !== undefined && config.org === '') read.problems.push('org: required with token (InfluxDB 2.x)');
      if (read.problems.length > 0) throw new Error(read.problems.join('; '));
      return config;
    }
    case 'elasticsearch': {
      const read = new OptionReader(params, ES_OPTIONS);
      const nodes = read.all('nodes');
      if (base !== '') nodes.unshift(base);
      if (nodes.length === 0) read.problems.push('give the server as elasticsearch:http://host:9200 or nodes=');
      const checked = nodes.map((n) => checkHttpUrl(n, read.problems));
      const caFile = read.optional('ca');
      if (caFile !== undefined && !existsSync(caFile)) read.problems.push(`ca=${caFile}: no such file`);
      const username = read.optional('esUserName');
      const password = read.optional('esUserSecret');
      const apiKey = read.optional('apiKey');
      const pipeline = read.optional('pipeline');
      const index = read.string('index', 'heapster');
      if (!/^[a-z0-9][a-z0-9_.-]*$/.test(index)) read.problems.push(`index=${index}: lowercase letters, digits, _ . - only`);
      const config: ElasticsearchSinkConfig = {
        kind: 'elasticsearch',
        name: name ?? 'elasticsearch',
        nodes: checked,
        index,
        maxRetries: read.integer('maxRetries', 3, 0),
        healthCheck: read.boolean('healthCheck', true),
        sniff: read.boolean('sniff', false),
        startupHealthcheckTimeoutSeconds: read.integer('startupHealthcheckTimeout', 1, 0),
        bulkWorkers: read.integer('bulkWorkers', 5, 1),
        clusterName: read.string('cluster_name', 'default'),
        dataStream: read.boolean('dataStream', false),
        ...(username ? { username } : {}),
        ...(password ? { password } : {}),
        ...(apiKey ? { apiKey } : {}),
        ...(caFile ? { caFile } : {}),
        ...(pipeline ? { pipeline } : {}),
      };
      if (read.problems.length > 0) throw new Error(read.problems.join('; '));
      return config;
    }
    default:
      throw new Error(`unknown sink kind "${kind}" (known: influxdb, elasticsearch, log)`);
  }
}

/** Every `--sink`, named uniquely (`influxdb`, `influxdb-2`, ...). Throws listing every problem. */
export function parseSinks(texts: readonly string[]): SinkConfig[] {
  const counts = new Map<string, number>();
  return texts.map((text) => {
    const kind = text.split(':')[0]!;
    const n = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, n);
    return parseSink(text, n === 1 ? undefined : `${kind}-${n}`);
  });
}

/** For config checks: one sink's problems, or undefined. */
export function checkSink(text: string): string | undefined {
  try {
    parseSink(text);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
