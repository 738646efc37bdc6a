/**
 * The Kubernetes Metrics API, `metrics.k8s.io/v1beta1` (as metrics-server serves it), from the
 * short-term store: NodeMetrics and PodMetrics, list and get, label and field selectors, and the
 * discovery documents. It also serves the core discovery and a read-only node list (from the
 * scheduler's metadata), which is all `kubectl top` reads, so that
 * `kubectl --server=http://host:port top node|pod` works against it directly.
 *
 * usage.cpu is in nanocores (`250000000n`, from cpu/usage_rate in millicores), usage.memory is the
 * working set (`Ki` when whole). `timestamp` is the sample time, `window` the window length.
 */
import type { Redis } from 'ioredis';
import type { NodeMeta, PodMeta, ResourceAmounts } from '../common/jobs.js';
import type { RedisKeys } from '../common/keys.js';
import { LABEL, metricSetKey } from '../common/metrics.js';
import { toApproxNumber, type MetricSet } from '../common/metric-set.js';
import { toRfc3339 } from '../common/metric-export.js';
import { parseFieldSelector, parseLabelSelector } from '../common/selectors.js';
import type { ApiResponse } from './model-api.js';
import type { StoreReader } from './store.js';

const GROUP = 'metrics.k8s.io';
const VERSION = 'v1beta1';
const GROUP_VERSION = `${GROUP}/${VERSION}`;

export function cpuQuantity(milliCores: number): string {
  return `${Math.round(milliCores * 1e6)}n`;
}

export function memoryQuantity(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024}Ki` : String(Math.round(bytes));
}

function resourceList(amounts: ResourceAmounts): Record<string, string> {
  const list: Record<string, string> = {};
  if (amounts.cpuMilliCores !== undefined) list.cpu = `${amounts.cpuMilliCores}m`;
  if (amounts.memoryBytes !== undefined) list.memory = memoryQuantity(amounts.memoryBytes);
  if (amounts.ephemeralBytes !== undefined) list['ephemeral-storage'] = String(amounts.ephemeralBytes);
  return list;
}

const status = (code: number, reason: string, message: string): ApiResponse => ({
  status: code,
  body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code },
});

const usageOf = (set: MetricSet): { cpu: string; memory: string } | undefined => {
  const cpu = set.values['cpu/usage_rate'];
  const memory = set.values['memory/working_set'];
  if (cpu === undefined || memory === undefined) return undefined;
  return { cpu: cpuQuantity(toApproxNumber(cpu)), memory: memoryQuantity(toApproxNumber(memory)) };
};

interface MetricsItem {
  metadata: Record<string, unknown> & { name: string };
  window: string;
  usage?: { cpu: string; memory: string };
  containers?: { usage: { cpu: string; memory: string } }[];
}

const nano = (cpu: string): number => Number(cpu.replace(/n$/, ''));
const bytes = (memory: string): number => (memory.endsWith('Ki') ? Number(memory.slice(0, -2)) * 1024 : Number(memory));

/** metrics-server's Table form: Name, CPU (millicores), Memory (Mi), Window; a pod sums its containers. */
function toTable(answer: ApiResponse): ApiResponse {
  const body = answer.body as { kind: string; items?: MetricsItem[] } & MetricsItem;
  if (!['NodeMetricsList', 'PodMetricsList', 'NodeMetrics', 'PodMetrics'].includes(body.kind)) return answer;
  const items = body.items ?? [body];
  const rows = items.map((item) => {
    const usages = item.usage ? [item.usage] : (item.containers ?? []).map((c) => c.usage);
    const cpu = usages.reduce((sum, u) => sum + nano(u.cpu), 0);
    const memory = usages.reduce((sum, u) => sum + bytes(u.memory), 0);
    return { cells: [item.metadata.name, `${Math.round(cpu / 1e6)}m`, `${Math.round(memory / 1024 / 1024)}Mi`, item.window], object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: item.metadata } };
  });
  return {
    status: 200,
    body: {
      kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {},
      columnDefinitions: [
        { name: 'Name', type: 'string', format: 'name', description: 'Name of the resource' },
        { name: 'CPU', type: 'string', format: '', description: 'CPU usage' },
        { name: 'Memory', type: 'string', format: '', description: 'Memory usage (working set)' },
        { name: 'Window', type: 'string', format: '', description: 'Interval the usage was measured over' },
      ],
      rows,
    },
  };
}

export class MetricsApi {
  constructor(
    private readonly store: StoreReader,
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  private async nodeMetas(): Promise<Map<string, NodeMeta>> {
    const all = await this.redis.hgetall(this.keys.nodeMeta);
    return new Map(Object.entries(all).map(([name, text]) => [name, JSON.parse(text) as NodeMeta]));
  }

  private async latest(): Promise<{ windowStartMs: number; windowMs: number } | undefined> {
    const windowStartMs = await this.store.latestWindow();
    if (windowStartMs === undefined) return undefined;
    const summary = await this.store.summary(windowStartMs);
    return { windowStartMs, windowMs: summary ? summary.windowEndMs - summary.windowStartMs : 60_000 };
  }

  /** `asTable`: the client asked for the Table form (`Accept: ...;as=Table;g=meta.k8s.io;v=v1`), as `kubectl get` does. */
  async handle(path: string, query: URLSearchParams, asTable = false): Promise<ApiResponse | undefined> {
    const answer = await this.route(path, query);
    return asTable && answer?.status === 200 ? toTable(answer) : answer;
  }

  private async route(path: string, query: URLSearchParams): Promise<ApiResponse | undefined> {
    const p = path.replace(/\/+$/, '') || '/';
    if (p === '/api') return { status: 200, body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }] } };
    if (p === '/api/v1') return { status: 200, body: { kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'nodes', singularName: 'node', namespaced: false, kind: 'Node', verbs: ['get', 'list'] }] } };
    if (p === '/apis') {
      const version = { groupVersion: GROUP_VERSION, version: VERSION };
      return { status: 200, body: { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: GROUP, versions: [version], preferredVersion: version }] } };
    }
    if (p === `/apis/${GROUP}`) {
      const version = { groupVersion: GROUP_VERSION, version: VERSION };
      return { status: 200, body: { kind: 'APIGroup', apiVersion: 'v1', name: GROUP, versions: [version], preferredVersion: version } };
    }
    if (p === `/apis/${GROUP_VERSION}`) {
      return {
        status: 200,
        body: {
          kind: 'APIResourceList', apiVersion: 'v1', groupVersion: GROUP_VERSION,
          resources: [
            { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
            { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
          ],
        },
      };
    }
    let labelMatch: (labels: Record<string, string>) => boolean;
    let fieldMatch: (object: unknown) => boolean;
    try {
      labelMatch = query.get('labelSelector') ? parseLabelSelector(query.get('labelSelector')!) : () => true;
      fieldMatch = query.get('fieldSelector') ? parseFieldSelector(query.get('fieldSelector')!) : () => true;
    } catch (error) {
      return status(400, 'BadRequest', (error as Error).message);
    }
    const coreNode = /^\/api\/v1\/nodes(?:\/([^/]+))?$/.exec(p);
    if (coreNode) return this.coreNodes(coreNode[1], labelMatch, fieldMatch);
    const nodes = new RegExp(`^/apis/${GROUP_VERSION}/nodes(?:/([^/]+))?$`).exec(p);
    if (nodes) return this.nodeMetrics(nodes[1] === undefined ? undefined : decodeURIComponent(nodes[1]), labelMatch, fieldMatch);
    const pods = new RegExp(`^/apis/${GROUP_VERSION}(?:/namespaces/([^/]+))?/pods(?:/([^/]+))?$`).exec(p);
    if (pods) return this.podMetrics(pods[1] === undefined ? undefined : decodeURIComponent(pods[1]), pods[2] === undefined ? undefined : decodeURIComponent(pods[2]), labelMatch, fieldMatch);
    return undefined;
  }

  private async coreNodes(name: string | undefined, labelMatch: (l: Record<string, string>) => boolean, fieldMatch: (o: unknown) => boolean): Promise<ApiResponse> {
    const metas = await this.nodeMetas();
    const toNode = (meta: NodeMeta): object => ({
      kind: 'Node', apiVersion: 'v1',
      metadata: { name: meta.name, uid: meta.uid, labels: meta.labels },
      status: { capacity: resourceList(meta.capacity), allocatable: resourceList(meta.allocatable), conditions: [{ type: 'Ready', status: meta.ready ? 'True' : 'False' }] },
    });
    if (name !== undefined) {
      const meta = metas.get(name);
      return meta ? { status: 200, body: toNode(meta) } : status(404, 'NotFound', `nodes "${name}" not found`);
    }
    const items = [...metas.values()].filter((m) => labelMatch(m.labels)).map(toNode).filter(fieldMatch);
    return { status: 200, body: { kind: 'NodeList', apiVersion: 'v1', metadata: {}, items } };
  }

  private async nodeMetrics(name: string | undefined, labelMatch: (l: Record<string, string>) => boolean, fieldMatch: (o: unknown) => boolean): Promise<ApiResponse> {
    const latest = await this.latest();
    const metas = await this.nodeMetas();
    const sets = latest === undefined ? [] : name !== undefined ? [await this.store.set(metricSetKey.node(name), latest.windowStartMs)].filter((s): s is MetricSet => s !== undefined) : await this.store.sets(latest.windowStartMs, metricSetKey.node(''), ['node']);
    const items = sets.flatMap((set) => {
      const usage = usageOf(set);
      const nodeName = set.labels[LABEL.nodename]!;
      const labels = metas.get(nodeName)?.labels ?? {};
      if (!usage || !labelMatch(labels)) return [];
      const item = {
        metadata: { name: nodeName, creationTimestamp: toRfc3339(Date.now()), labels },
        timestamp: toRfc3339(set.sampleTimesMs.cpu ?? set.scrapeTimeMs),
        window: `${latest!.windowMs / 1000}s`,
        usage,
      };
      return fieldMatch(item) ? [item] : [];
    });
    if (name !== undefined) return items[0] ? { status: 200, body: { kind: 'NodeMetrics', apiVersion: GROUP_VERSION, ...items[0] } } : status(404, 'NotFound', `nodemetrics.metrics.k8s.io "${name}" not found`);
    return { status: 200, body: { kind: 'NodeMetricsList', apiVersion: GROUP_VERSION, metadata: {}, items } };
  }

  private async podMetrics(namespace: string | undefined, name: string | undefined, labelMatch: (l: Record<string, string>) => boolean, fieldMatch: (o: unknown) => boolean): Promise<ApiResponse> {
    const latest = await this.latest();
    const prefix = namespace === undefined ? metricSetKey.namespace('') : name === undefined ? metricSetKey.pod(namespace, '') : metricSetKey.pod(namespace, name);
    const sets = latest === undefined ? [] : await this.store.sets(latest.windowStartMs, prefix, ['pod', 'pod_container']);
    const podLabels = new Map<string, Record<string, string>>();
    const metaByNode = new Map<string, PodMeta[]>();
    const labelsOf = async (set: MetricSet): Promise<Record<string, string>> => {
      const node = set.labels[LABEL.nodename] ?? '';
      if (!metaByNode.has(node)) {
        const text = await this.redis.get(this.keys.podsOnNode(node));
        metaByNode.set(node, text ? (JSON.parse(text) as PodMeta[]) : []);
        for (const pod of metaByNode.get(node)!) podLabels.set(`${pod.namespace}/${pod.name}`, pod.labels);
      }
      return podLabels.get(`${set.labels[LABEL.namespaceName]}/${set.labels[LABEL.podName]}`) ?? {};
    };
    const containers = new Map<string, { name: string; usage: { cpu: string; memory: string } }[]>();
    for (const set of sets) {
      if (set.type !== 'pod_container') continue;
      const usage = usageOf(set);
      if (!usage) continue;
      const podKey = metricSetKey.pod(set.labels[LABEL.namespaceName]!, set.labels[LABEL.podName]!);
      containers.set(podKey, [...(containers.get(podKey) ?? []), { name: set.labels[LABEL.containerName]!, usage }]);
    }
    const items: object[] = [];
    for (const set of sets) {
      if (set.type !== 'pod' || (name !== undefined && set.labels[LABEL.podName] !== name)) continue;
      const podContainers = containers.get(set.key);
      if (!podContainers || podContainers.length === 0) continue;
      const labels = await labelsOf(set);
      if (!labelMatch(labels)) continue;
      const item = {
        metadata: { name: set.labels[LABEL.podName], namespace: set.labels[LABEL.namespaceName], creationTimestamp: toRfc3339(Date.now()), labels },
        timestamp: toRfc3339(set.sampleTimesMs.cpu ?? set.scrapeTimeMs),
        window: `${latest!.windowMs / 1000}s`,
        containers: podContainers.sort((a, b) => (a.name < b.name ? -1 : 1)),
      };
      if (fieldMatch(item)) items.push(item);
    }
    if (name !== undefined) return items[0] ? { status: 200, body: { kind: 'PodMetrics', apiVersion: GROUP_VERSION, ...items[0] } } : status(404, 'NotFound', `podmetrics.metrics.k8s.io "${namespace}/${name}" not found`);
    return { status: 200, body: { kind: 'PodMetricsList', apiVersion: GROUP_VERSION, metadata: {}, items } };
  }
}
