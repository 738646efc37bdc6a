/**
 * Heapster's Model API (docs/model.md) over the short-term store. Handlers return a status and a
 * JSON body; no HTTP here. Shapes follow Heapster's api/v1 types:
 *   metric list:  ["cpu/usage_rate", ...]          entity list: ["node-1", ...]
 *   metric:       {"metrics": [{"timestamp": RFC3339, "value": n}], "latestTimestamp": RFC3339}
 *   pod-list:     {"items": [<metric>, ...]}
 * `start` and `end` are RFC 3339; unknown entity or metric: 404 with {"error"}; bad time: 400.
 * A labeled metric (filesystem/*, accelerator/*) takes `labels=key:value,...` to pick one value.
 */
import { metricSetKey, METRICS_BY_NAME, METRIC_SET_TYPES } from '../common/metrics.js';
import { jsonSafeValue, type MetricSet } from '../common/metric-set.js';
import { toMetricExport, toRfc3339 } from '../common/metric-export.js';
import { METRICS } from '../common/metrics.js';
import type { StoreReader } from './store.js';

export interface ApiResponse {
  status: number;
  body: unknown;
}

/** Heapster's deprecated metric names, still accepted. */
export const DEPRECATED_METRIC_NAMES: Readonly<Record<string, string>> = {
  'cpu-usage': 'cpu/usage_rate',
  'cpu-limit': 'cpu/limit',
  'cpu-request': 'cpu/request',
  'memory-usage': 'memory/usage',
  'memory-working': 'memory/working_set',
  'memory-limit': 'memory/limit',
  'memory-request': 'memory/request',
};

const notFound = (what: string): ApiResponse => ({ status: 404, body: { error: `${what} not found` } });
const ok = (body: unknown): ApiResponse => ({ status: 200, body });

function parseTime(text: string | null, name: string): number | undefined | ApiResponse {
  if (text === null || text === '') return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms) || !/^\d{4}-\d\d-\d\dT/.test(text)) return { status: 400, body: { error: `${name}=${text}: not an RFC 3339 time` } };
  return ms;
}

const segments = (path: string): string[] => path.split('/').filter((s) => s !== '').map(decodeURIComponent);

export class ModelApi {
  constructor(private readonly store: StoreReader) {}

  /** The latest window's sets whose key starts with `prefix`; with `types`, of those types only. */
  private async latestSets(prefix: string, types?: readonly MetricSet['type'][]): Promise<MetricSet[]> {
    const latest = await this.store.latestWindow();
    return latest === undefined ? [] : this.store.sets(latest, prefix, types);
  }

  private async latestSet(key: string): Promise<MetricSet | undefined> {
    const latest = await this.store.latestWindow();
    return latest === undefined ? undefined : this.store.set(key, latest);
  }

  private async metricNames(key: string, what: string): Promise<ApiResponse> {
    const set = await this.latestSet(key);
    if (!set) return notFound(what);
    return ok([...new Set([...Object.keys(set.values), ...set.labeled.map((v) => v.name)])].sort());
  }

  private async metric(key: string, what: string, metricName: string, query: URLSearchParams): Promise<ApiResponse> {
    const metric = DEPRECATED_METRIC_NAMES[metricName] ?? metricName;
    if (!METRICS_BY_NAME.has(metric)) return notFound(`metric ${metricName}`);
    const start = parseTime(query.get('start'), 'start');
    const end = parseTime(query.get('end'), 'end');
    if (typeof start === 'object') return start;
    if (typeof end === 'object') return end;
    if (!(await this.latestSet(key))) return notFound(what);
    // Heapster's `labels` parameter picks one value of a labeled metric: labels=resource_id:/
    const valueLabels = METRICS_BY_NAME.get(metric)!.valueLabels;
    let labels: Record<string, string> | undefined;
    if (valueLabels.length > 0) {
      const text = query.get('labels');
      if (!text) return { status: 400, body: { error: `${metric} has one value per ${valueLabels.join(', ')}: give labels=${valueLabels[0]}:<value>` } };
      labels = Object.fromEntries(text.split(',').map((pair) => [pair.slice(0, pair.indexOf(':')), pair.slice(pair.indexOf(':') + 1)]));
    }
    const points = await this.store.series(key, metric, start ?? 0, end ?? Infinity, labels);
    return ok({
      metrics: points.map((p) => ({ timestamp: toRfc3339(p.timestampMs), value: jsonSafeValue(p.value) })),
      latestTimestamp: points.length > 0 ? toRfc3339(points[points.length - 1]!.timestampMs) : toRfc3339(0),
    });
  }

  /** Routes a path under /api/v1/model (and the two metric-export paths). */
  async handle(path: string, query: URLSearchParams): Promise<ApiResponse | undefined> {
    if (path === '/api/v1/metric-export' || path === '/api/v1/metric-export/') return ok(toMetricExport(await this.latestSets('')));
    if (path === '/api/v1/metric-export-schema' || path === '/api/v1/metric-export-schema/') {
      return ok({
        metrics: METRICS.map((m) => ({ name: m.name, description: m.description, type: m.kind, units: m.unit, value_type: m.valueType, labels: m.valueLabels })),
        common_labels: ['type', 'nodename', 'hostname', 'host_id', 'cluster_name'],
        pod_labels: ['namespace_name', 'namespace_id', 'pod_name', 'pod_id', 'labels', 'container_name', 'container_base_image'],
        set_types: METRIC_SET_TYPES,
      });
    }
    if (!path.startsWith('/api/v1/model')) return undefined;
    const all = segments(path.slice('/api/v1/model'.length));
    // Metric names contain `/` (cpu/usage_rate): everything after `metrics/` is the name, as one segment.
    const at = all.indexOf('metrics');
    const s = at >= 0 && at < all.length - 1 ? [...all.slice(0, at + 1), all.slice(at + 1).join('/')] : all;
    if (s.length === 0) return ok(['metrics/', 'nodes/', 'namespaces/', 'debug/allkeys']);
    if (s[0] === 'debug' && s[1] === 'allkeys' && s.length === 2) return ok((await this.latestSets('')).map((set) => set.key).sort());
    if (s[0] === 'metrics') {
      if (s.length === 1) return this.metricNames(metricSetKey.cluster(), 'cluster');
      if (s.length === 2) return this.metric(metricSetKey.cluster(), 'cluster', s[1]!, query);
    }
    if (s[0] === 'nodes') {
      if (s.length === 1) return ok((await this.latestSets(metricSetKey.node(''), ['node'])).map((x) => x.labels.nodename).sort());
      const node = s[1]!;
      if (s[2] === 'metrics' && s.length === 3) return this.metricNames(metricSetKey.node(node), `node ${node}`);
      if (s[2] === 'metrics' && s.length === 4) return this.metric(metricSetKey.node(node), `node ${node}`, s[3]!, query);
      if (s[2] === 'freecontainers') {
        if (s.length === 3) {
          if (!(await this.latestSet(metricSetKey.node(node)))) return notFound(`node ${node}`);
          return ok((await this.latestSets(metricSetKey.containersOf(metricSetKey.node(node)))).map((x) => x.labels.container_name).sort());
        }
        const key = metricSetKey.nodeContainer(node, s[3]!);
        if (s[4] === 'metrics' && s.length === 5) return this.metricNames(key, `free container ${s[3]}`);
        if (s[4] === 'metrics' && s.length === 6) return this.metric(key, `free container ${s[3]}`, s[5]!, query);
      }
    }
    if (s[0] === 'namespaces') {
      if (s.length === 1) return ok((await this.latestSets(metricSetKey.namespace(''), ['ns'])).map((x) => x.labels.namespace_name).sort());
      const namespace = s[1]!;
      if (s[2] === 'metrics' && s.length === 3) return this.metricNames(metricSetKey.namespace(namespace), `namespace ${namespace}`);
      if (s[2] === 'metrics' && s.length === 4) return this.metric(metricSetKey.namespace(namespace), `namespace ${namespace}`, s[3]!, query);
      if (s[2] === 'pods') {
        if (s.length === 3) return ok((await this.latestSets(metricSetKey.pod(namespace, ''), ['pod'])).map((x) => x.labels.pod_name).sort());
        const pod = s[3]!;
        const podKey = metricSetKey.pod(namespace, pod);
        if (s[4] === 'metrics' && s.length === 5) return this.metricNames(podKey, `pod ${namespace}/${pod}`);
        if (s[4] === 'metrics' && s.length === 6) return this.metric(podKey, `pod ${namespace}/${pod}`, s[5]!, query);
        if (s[4] === 'containers') {
          if (s.length === 5) {
            if (!(await this.latestSet(podKey))) return notFound(`pod ${namespace}/${pod}`);
            return ok((await this.latestSets(metricSetKey.containersOf(podKey))).map((x) => x.labels.container_name).sort());
          }
          const key = metricSetKey.podContainer(namespace, pod, s[5]!);
          if (s[6] === 'metrics' && s.length === 7) return this.metricNames(key, `container ${s[5]}`);
          if (s[6] === 'metrics' && s.length === 8) return this.metric(key, `container ${s[5]}`, s[7]!, query);
        }
      }
      // Heapster's batch form: /namespaces/{ns}/pod-list/{a,b,c}/metrics/{metric}
      if (s[2] === 'pod-list' && s[4] === 'metrics' && s.length === 6) {
        const items: unknown[] = [];
        for (const pod of s[3]!.split(',')) {
          const one = await this.metric(metricSetKey.pod(namespace, pod), `pod ${namespace}/${pod}`, s[5]!, query);
          if (one.status === 400 || (one.status === 404 && !/^pod /.test((one.body as { error: string }).error))) return one;
          items.push(one.status === 200 ? one.body : { metrics: [], latestTimestamp: toRfc3339(0) });
        }
        return ok({ items });
      }
    }
    return notFound(`path ${path}`);
  }
}
