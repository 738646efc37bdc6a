/**
 * Everything the processor does with one node's scrape, as one pure function: rates against
 * the node's previous sample, pod and namespace enrichment, pod aggregation, the node
 * autoscaling enricher, and the node's partial of the namespace and cluster roll-ups.
 */
import type { NamespaceMeta, NodeMeta, PodMeta } from '../common/jobs.js';
import { RATE_OF_CUMULATIVE } from '../common/metrics.js';
import type { MetricSet } from '../common/metric-set.js';
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
  /** The counters to keep for the next window's rates. */
  rateSample: MetricSet[];
  skipped: Partial<Record<RateSkipReason, number>>;
  partial: NodePartial;
}

/** A set reduced to what the next rate calculation reads: its times and rate-source counters. */
export function rateSampleOf(set: MetricSet): MetricSet {
  const values: MetricSet['values'] = {};
  for (const [name, value] of Object.entries(set.values)) if (RATE_OF_CUMULATIVE.has(name)) values[name] = value;
  const sample: MetricSet = {
    key: set.key,
    type: set.type,
    labels: {},
    scrapeTimeMs: set.scrapeTimeMs,
    sampleTimesMs: set.sampleTimesMs,
    values,
    labeled: set.labeled.filter((v) => RATE_OF_CUMULATIVE.has(v.name)),
  };
  if (set.createTimeMs !== undefined) sample.createTimeMs = set.createTimeMs;
  return sample;
}

/** `sets` are the parsed summary (modified in place and returned with stubs added). */
export function processNode(sets: MetricSet[], previous: readonly MetricSet[], context: NodeContext, options: EnrichOptions): NodeResult {
  const before = new Map(previous.map((s) => [s.key, s]));
  const skipped: NodeResult['skipped'] = {};
  const rateSample: MetricSet[] = [];
  for (const set of sets) {
    if (Object.keys(set.values).length === 0 && set.labeled.length === 0) continue;
    rateSample.push(rateSampleOf(set));
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
