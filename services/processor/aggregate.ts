/**
 * Heapster's aggregators and node autoscaling enricher, as pure functions.
 *
 * - Pod: a value the kubelet gave at pod level is kept; otherwise gauges (and restart counts)
 *   are summed over the pod's containers. Cumulative counters are never summed (a restarted
 *   container would make the sum go down).
 * - Node: requests and limits are summed over the node's pods; capacity and allocatable come from
 *   the Node object; reservation = requests / allocatable, utilization = usage / allocatable
 *   (cpu: usage_rate, memory: working set, ephemeral storage: usage).
 * - Namespace and cluster need every node, so each node contributes a partial (sums of its pods
 *   per namespace; its capacity and allocatable) and the window's finalizer adds the partials.
 */
import type { NamespaceMeta, NodeMeta } from '../common/jobs.js';
import { LABEL, METRICS, metricSetKey, type MetricDefinition, type MetricSetType } from '../common/metrics.js';
import { addValues, newMetricValues, toApproxNumber, type MetricSet, type MetricValue } from '../common/metric-set.js';

const carries = (m: MetricDefinition, ...types: MetricSetType[]): boolean => types.every((t) => m.setTypes.includes(t));
const summable = (m: MetricDefinition): boolean => m.valueLabels.length === 0 && m.aggregation === 'sum';

/** Metrics a pod gets from its containers when the kubelet gave none at pod level. */
export const POD_FROM_CONTAINERS = METRICS.filter((m) => carries(m, 'pod_container', 'pod') && summable(m) && (m.kind === 'gauge' || m.origin === 'api')).map((m) => m.name);
/** Metrics a node gets from its pods (requests and limits). */
export const NODE_FROM_PODS = METRICS.filter((m) => carries(m, 'pod', 'node') && summable(m) && m.origin === 'api').map((m) => m.name);
/** Metrics a namespace (and the cluster) gets from its pods. */
export const NAMESPACE_FROM_PODS = METRICS.filter((m) => carries(m, 'pod', 'ns') && summable(m) && m.kind === 'gauge').map((m) => m.name);
/** Metrics the cluster gets from its nodes. */
export const CLUSTER_FROM_NODES = METRICS.filter((m) => carries(m, 'node', 'cluster') && !m.setTypes.includes('ns') && summable(m)).map((m) => m.name);

function sumInto(target: Record<string, MetricValue>, name: string, value: MetricValue | undefined): void {
  if (value === undefined) return;
  const before = target[name];
  target[name] = before === undefined ? value : addValues(before, value);
}

export function aggregatePods(sets: readonly MetricSet[]): void {
  const pods = new Map<string, MetricSet>();
  for (const set of sets) if (set.type === 'pod') pods.set(set.key, set);
  const fromContainers = new Map<string, Record<string, MetricValue>>();
  for (const set of sets) {
    if (set.type !== 'pod_container') continue;
    const podKey = metricSetKey.pod(set.labels[LABEL.namespaceName]!, set.labels[LABEL.podName]!);
    if (!pods.has(podKey)) continue;
    let sums = fromContainers.get(podKey);
    if (!sums) fromContainers.set(podKey, (sums = newMetricValues()));
    for (const name of POD_FROM_CONTAINERS) sumInto(sums, name, set.values[name]);
  }
  for (const [podKey, sums] of fromContainers) {
    const pod = pods.get(podKey)!;
    for (const name in sums) if (pod.values[name] === undefined) pod.values[name] = sums[name]!;
  }
}

const RESOURCES = [
  { resource: 'cpu', meta: 'cpuMilliCores', usage: 'cpu/usage_rate' },
  { resource: 'memory', meta: 'memoryBytes', usage: 'memory/working_set' },
  { resource: 'ephemeral_storage', meta: 'ephemeralBytes', usage: 'ephemeral_storage/usage' },
] as const;

export function enrichNode(sets: readonly MetricSet[], node: NodeMeta | undefined): void {
  const nodeSet = sets.find((s) => s.type === 'node');
  if (!nodeSet) return;
  if (node?.hostId) nodeSet.labels[LABEL.hostId] = node.hostId;
  const requested: Record<string, MetricValue> = {};
  for (const set of sets) if (set.type === 'pod') for (const name of NODE_FROM_PODS) sumInto(requested, name, set.values[name]);
  Object.assign(nodeSet.values, requested);
  if (!node) return;
  for (const { resource, meta, usage } of RESOURCES) {
    const capacity = node.capacity[meta];
    const allocatable = node.allocatable[meta];
    if (capacity !== undefined) nodeSet.values[`${resource}/node_capacity`] = capacity;
    if (allocatable === undefined) continue;
    nodeSet.values[`${resource}/node_allocatable`] = allocatable;
    if (allocatable <= 0) continue;
    const request = requested[`${resource}/request`];
    if (request !== undefined) nodeSet.values[`${resource}/node_reservation`] = toApproxNumber(request) / allocatable;
    const used = nodeSet.values[usage];
    if (used !== undefined) nodeSet.values[`${resource}/node_utilization`] = toApproxNumber(used) / allocatable;
  }
}

/** One node's contribution to its window's namespace and cluster sets. */
export interface NodePartial {
  namespaces: Record<string, Record<string, number>>;
  cluster: Record<string, number>;
}

export function nodePartial(sets: readonly MetricSet[]): NodePartial {
  const partial: NodePartial = { namespaces: {}, cluster: {} };
  for (const set of sets) {
    if (set.type === 'pod') {
      const namespace = set.labels[LABEL.namespaceName]!;
      const sums = (partial.namespaces[namespace] ??= {});
      for (const name of NAMESPACE_FROM_PODS) {
        const value = set.values[name];
        if (value !== undefined) sums[name] = (sums[name] ?? 0) + toApproxNumber(value);
      }
    } else if (set.type === 'node') {
      for (const name of CLUSTER_FROM_NODES) {
        const value = set.values[name];
        if (value !== undefined) partial.cluster[name] = (partial.cluster[name] ?? 0) + toApproxNumber(value);
      }
    }
  }
  return partial;
}

/** The namespace sets and the cluster set of a window, from its nodes' partials. */
export function rollUp(partials: readonly NodePartial[], namespaces: ReadonlyMap<string, NamespaceMeta>, scrapeTimeMs: number): MetricSet[] {
  const byNamespace = new Map<string, Record<string, number>>();
  const cluster: Record<string, number> = {};
  // for...in, not Object.entries: this runs once per node of the window on the finalize path.
  for (const partial of partials) {
    for (const namespace in partial.namespaces) {
      const sums = partial.namespaces[namespace]!;
      let total = byNamespace.get(namespace);
      if (!total) byNamespace.set(namespace, (total = {}));
      for (const name in sums) total[name] = (total[name] ?? 0) + sums[name]!;
    }
    for (const name in partial.cluster) cluster[name] = (cluster[name] ?? 0) + partial.cluster[name]!;
  }
  const sets: MetricSet[] = [];
  for (const [namespace, values] of [...byNamespace].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const labels: Record<string, string> = { [LABEL.type]: 'ns', [LABEL.namespaceName]: namespace };
    const uid = namespaces.get(namespace)?.uid;
    if (uid) labels[LABEL.namespaceId] = uid;
    sets.push({ key: metricSetKey.namespace(namespace), type: 'ns', labels, scrapeTimeMs, sampleTimesMs: {}, values: { ...values }, labeled: [] });
    for (const [name, value] of Object.entries(values)) cluster[name] = (cluster[name] ?? 0) + value;
  }
  sets.push({ key: metricSetKey.cluster(), type: 'cluster', labels: { [LABEL.type]: 'cluster' }, scrapeTimeMs, sampleTimesMs: {}, values: cluster, labeled: [] });
  return sets;
}
