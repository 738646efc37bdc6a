/**
 * Everything the processor does with one node's scrape, as one pure function: rates against
 * the node's previous sample, pod and namespace enrichment, pod aggregation, the node
 * autoscaling enricher, and the node's partial of the namespace and cluster roll-ups.
 */
import type { NamespaceMeta, NodeMeta, PodMeta } from '../common/jobs.js';
import { packRateSample } from '../common/batch-codec.js';
import type { MetricSet } from '../common/metric-set.js';
import { podNodesField } from '../common/keys.js';
import { LABEL } from '../common/metrics.js';
import { aggregatePods, enrichNode, nodePartial, type NodePartial } from './aggregate.js';
import { enrichPods, type EnrichOptions } from './enrich.js';
import { applyRates, type RateSkipReason } from './rates.js';

export interface NodeContext {
  nodeName: string;
  node: NodeMeta | undefined;
  /** Pods the API server binds to this node. */
  pods: readonly PodMeta[];
  namespaces: ReadonlyMap<string, NamespaceMeta>;
}

export interface NodeResult {
  sets: MetricSet[];
  /** The counters to keep for the next window's rates, packed as Redis keeps them (packRateSample). */
  rateSample: Buffer;
  skipped: Partial<Record<RateSkipReason, number>>;
  partial: NodePartial;
}

const podOf = (set: MetricSet): string | undefined =>
  set.type === 'pod' || set.type === 'pod_container' ? podNodesField(set.labels[LABEL.namespaceName] ?? '', set.labels[LABEL.podName] ?? '') : undefined;

/** The pods (`namespace/name`) the summary reports that the API server does not list on this node. */
export function podsNotListed(sets: readonly MetricSet[], listed: readonly PodMeta[]): string[] {
  const onNode = new Set(listed.map((pod) => podNodesField(pod.namespace, pod.name)));
  const unlisted: string[] = [];
  for (const set of sets) {
    if (set.type !== 'pod') continue;
    const pod = podOf(set)!;
    if (!onNode.has(pod)) unlisted.push(pod);
  }
  return unlisted;
}

/**
 * `sets` without the sets of `pods` (`namespace/name`) and their containers. For a pod the API
 * server binds to another node: that node's report of it is the one counted (a kubelet still
 * reporting a pod that moved, as a StatefulSet's pod does when its old node comes back, would
 * otherwise add it twice to its namespace and the cluster, and its staged sets would shadow the
 * current ones).
 */
export function withoutPods(sets: readonly MetricSet[], pods: ReadonlySet<string>): MetricSet[] {
  return sets.filter((set) => {
    const pod = podOf(set);
    return pod === undefined || !pods.has(pod);
  });
}

/** `sets` are the parsed summary (modified in place and returned with stubs added). */
export function processNode(sets: MetricSet[], previous: readonly MetricSet[], context: NodeContext, options: EnrichOptions): NodeResult {
  const before = new Map(previous.map((s) => [s.key, s]));
  const skipped: NodeResult['skipped'] = {};
  const rateSample = packRateSample(sets);
  for (const set of sets) {
    const earlier = before.get(set.key);
    if (!earlier) continue;
    for (const skip of applyRates(earlier, set).skipped) skipped[skip.reason] = (skipped[skip.reason] ?? 0) + 1;
  }
  const nodeSet = sets.find((s) => s.type === 'node');
  enrichPods(sets, context.nodeName, context.pods, context.namespaces, options, nodeSet?.scrapeTimeMs ?? Date.now());
  aggregatePods(sets);
  enrichNode(sets, context.node);
  return { sets, rateSample, skipped, partial: nodePartial(sets) };
}
