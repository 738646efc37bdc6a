/**
 * Heapster's pod-based and namespace-based enrichers, as pure functions over one node's sets:
 * pod and container sets get `pod_id`, `labels` (the pod's labels, `key:value` sorted and joined
 * by the label separator, ignored labels left out), stored labels as labels of their own,
 * `namespace_id`, the container's base image, its requests and limits (0 when unset, as Heapster
 * wrote them) and its restart count. Pods the API server binds to the node but the kubelet did
 * not report (just scheduled, or their containers not started) get stub sets, as in Heapster.
 */
import type { ContainerMeta, NamespaceMeta, PodMeta } from '../common/jobs.js';
import { LABEL, metricSetKey } from '../common/metrics.js';
import { newMetricValues, type Labels, type MetricSet } from '../common/metric-set.js';

export interface EnrichOptions {
  labelSeparator: string;
  /** Pod labels copied to labels of their own: label `tag` gets the value of pod label `podLabel`. */
  storeLabels: readonly { tag: string; podLabel: string }[];
  ignoreLabels: ReadonlySet<string>;
}

export const DEFAULT_ENRICH_OPTIONS: EnrichOptions = { labelSeparator: ',', storeLabels: [], ignoreLabels: new Set() };

/** `--store_label` items: `name` or `tag=podLabel`. */
export function parseStoreLabels(items: readonly string[]): EnrichOptions['storeLabels'] {
  return items.map((item) => {
    const eq = item.indexOf('=');
    return eq < 0 ? { tag: item, podLabel: item } : { tag: item.slice(0, eq), podLabel: item.slice(eq + 1) };
  });
}

/** Heapster's LabelsToString: `key:value` pairs sorted by key, joined by `separator`. */
export function labelsToString(labels: Readonly<Record<string, string>>, separator: string, ignore: ReadonlySet<string>): string {
  return Object.keys(labels)
    .filter((key) => !ignore.has(key))
    .sort()
    .map((key) => `${key}:${labels[key]}`)
    .join(separator);
}

function podLabels(pod: PodMeta, namespace: NamespaceMeta | undefined, options: EnrichOptions): Labels {
  const labels: Labels = {
    [LABEL.podId]: pod.uid,
    [LABEL.labels]: labelsToString(pod.labels, options.labelSeparator, options.ignoreLabels),
  };
  if (namespace) labels[LABEL.namespaceId] = namespace.uid;
  for (const { tag, podLabel } of options.storeLabels) {
    const value = pod.labels[podLabel];
    if (value !== undefined) labels[tag] = value;
  }
  return labels;
}

function setContainerResources(set: MetricSet, container: ContainerMeta): void {
  set.values['cpu/request'] = container.requests.cpuMilliCores ?? 0;
  set.values['cpu/limit'] = container.limits.cpuMilliCores ?? 0;
  set.values['memory/request'] = container.requests.memoryBytes ?? 0;
  set.values['memory/limit'] = container.limits.memoryBytes ?? 0;
  set.values['ephemeral_storage/request'] = container.requests.ephemeralBytes ?? 0;
  set.values['ephemeral_storage/limit'] = container.limits.ephemeralBytes ?? 0;
  set.values['restart_count'] = container.restartCount;
}

function stubSet(key: string, type: MetricSet['type'], labels: Labels, scrapeTimeMs: number): MetricSet {
  return { key, type, labels, scrapeTimeMs, sampleTimesMs: {}, values: newMetricValues(), labeled: [] };
}

/**
 * Enriches `sets` (one node's, in place) and appends stubs for pods bound to the node that the
 * summary lacks. Pods that are finished (Succeeded, Failed) get no stub.
 */
export function enrichPods(
  sets: MetricSet[],
  nodeName: string,
  pods: readonly PodMeta[],
  namespaces: ReadonlyMap<string, NamespaceMeta>,
  options: EnrichOptions,
  stubTimeMs: number,
): void {
  const byKey = new Map(sets.map((s) => [s.key, s]));
  const nodeLabels: Labels = { [LABEL.nodename]: nodeName, [LABEL.hostname]: nodeName };
  for (const pod of pods) {
    const namespace = namespaces.get(pod.namespace);
    const extra = podLabels(pod, namespace, options);
    const podKey = metricSetKey.pod(pod.namespace, pod.name);
    let podSet = byKey.get(podKey);
    if (!podSet) {
      if (pod.phase === 'Succeeded' || pod.phase === 'Failed') continue;
      podSet = stubSet(podKey, 'pod', { ...nodeLabels, [LABEL.type]: 'pod', [LABEL.namespaceName]: pod.namespace, [LABEL.podName]: pod.name }, stubTimeMs);
      sets.push(podSet);
      byKey.set(podKey, podSet);
    }
    Object.assign(podSet.labels, extra);
    for (const container of pod.containers) {
      const key = metricSetKey.podContainer(pod.namespace, pod.name, container.name);
      let set = byKey.get(key);
      if (!set) {
        set = stubSet(key, 'pod_container', { ...nodeLabels, [LABEL.type]: 'pod_container', [LABEL.namespaceName]: pod.namespace, [LABEL.podName]: pod.name, [LABEL.containerName]: container.name }, stubTimeMs);
        sets.push(set);
        byKey.set(key, set);
      }
      Object.assign(set.labels, extra, { [LABEL.containerBaseImage]: container.image });
      setContainerResources(set, container);
    }
  }
}
