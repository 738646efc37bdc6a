/**
 * Heapster's Elasticsearch documents (pure functions; no I/O). A metric set's values are grouped
 * by family into one document per family (and per labeled value's labels):
 *   {"CpuMetricsTimestamp": "...", "Metrics": {"cpu/usage_rate": {"value": 250}, ...},
 *    "MetricsTags": {"type": "pod", "pod_name": "...", "cluster_name": "default", ...}}
 * Families are cpu, memory, network and filesystem (Heapster's); other metrics go to `General`
 * documents. Daily indices are `<index>-YYYY.MM.DD` (by the window's UTC date) with filtered
 * aliases `<index>-<family>-YYYY.MM.DD`, as Heapster's index patterns `heapster-cpu-*` expect;
 * with a data stream every document goes to `<index>` and carries `@timestamp`.
 * Document ids are a hash of index, family, set key, value labels and time: a retried write
 * replaces, never duplicates.
 */
import { createHash } from 'node:crypto';
import { familyAndField, METRICS_BY_NAME } from '../../common/metrics.js';
import { toApproxNumber, type Labels, type MetricSet, type MetricValue } from '../../common/metric-set.js';
import { toRfc3339 } from '../../common/metric-export.js';

export const ES_FAMILIES = ['cpu', 'memory', 'network', 'filesystem'] as const;
const GENERAL = 'general';

export interface EsDocument {
  _id: string;
  _index: string;
  family: string;
  body: Record<string, unknown>;
}

export interface EsEncodeOptions {
  index: string;
  clusterName: string;
  dataStream: boolean;
}

const capitalized = (family: string): string => family.charAt(0).toUpperCase() + family.slice(1);
export const timestampField = (family: string): string => `${capitalized(family)}MetricsTimestamp`;

export function dailyIndex(index: string, timeMs: number): string {
  return `${index}-${new Date(timeMs).toISOString().slice(0, 10).replace(/-/g, '.')}`;
}

/** A JSON number; a bigint too large to be exact becomes its nearest double (Elasticsearch stores doubles). */
const jsonNumber = (value: MetricValue): number => toApproxNumber(value);

export function encodeEsDocuments(sets: readonly MetricSet[], timeMs: number, options: EsEncodeOptions): EsDocument[] {
  const index = options.dataStream ? options.index : dailyIndex(options.index, timeMs);
  const time = toRfc3339(timeMs);
  const documents: EsDocument[] = [];
  for (const set of sets) {
    const groups = new Map<string, { family: string; tags: Labels; metrics: Record<string, { value: number }> }>();
    const add = (name: string, value: MetricValue, extra: Labels | undefined): void => {
      if (!METRICS_BY_NAME.has(name)) return;
      const { family } = familyAndField(name);
      const group = (ES_FAMILIES as readonly string[]).includes(family) ? family : GENERAL;
      const extraKey = extra ? Object.entries(extra).sort().map(([k, v]) => `${k}=${v}`).join(',') : '';
      const key = `${group}|${extraKey}`;
      let entry = groups.get(key);
      if (!entry) groups.set(key, (entry = { family: group, tags: Object.assign({}, set.labels, extra, { cluster_name: options.clusterName }), metrics: {} }));
      entry.metrics[name] = { value: jsonNumber(value) };
    };
    for (const [name, value] of Object.entries(set.values)) add(name, value, undefined);
    for (const labeled of set.labeled) add(labeled.name, labeled.value, labeled.labels);
    for (const [key, group] of groups) {
      const body: Record<string, unknown> = { [timestampField(group.family)]: time, Metrics: group.metrics, MetricsTags: group.tags };
      if (options.dataStream) body['@timestamp'] = time;
      const _id = createHash('sha1').update(`${options.index}|${set.key}|${key}|${timeMs}`).digest('hex');
      documents.push({ _id, _index: index, family: group.family, body });
    }
  }
  return documents;
}

/** The index template: tags as keywords, family timestamps as dates, values as doubles. */
export function indexTemplate(options: EsEncodeOptions): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    MetricsTags: { type: 'object', dynamic: true },
    Metrics: { type: 'object', dynamic: true },
  };
  for (const family of [...ES_FAMILIES, GENERAL]) properties[timestampField(family)] = { type: 'date' };
  properties.EventTimestamp = { type: 'date' };
  properties.EventTags = { type: 'object', dynamic: true };
  if (options.dataStream) properties['@timestamp'] = { type: 'date' };
  return {
    index_patterns: options.dataStream ? [options.index] : [`${options.index}-*`],
    ...(options.dataStream ? { data_stream: {} } : {}),
    template: {
      mappings: {
        dynamic_templates: [
          { tags: { path_match: 'MetricsTags.*', mapping: { type: 'keyword' } } },
          { values: { path_match: 'Metrics.*.value', mapping: { type: 'double' } } },
          { eventTags: { path_match: 'EventTags.*', mapping: { type: 'keyword' } } },
        ],
        properties,
      },
    },
  };
}

/** Filtered aliases of one daily index: `<index>-<family>-<date>` for each family, and `<index>-events-<date>`. */
export function familyAliases(index: string, dailyIndexName: string): Record<string, { filter: Record<string, unknown> }> {
  const date = dailyIndexName.slice(index.length + 1);
  const aliases: Record<string, { filter: Record<string, unknown> }> = {};
  for (const family of [...ES_FAMILIES, GENERAL]) aliases[`${index}-${family}-${date}`] = { filter: { exists: { field: timestampField(family) } } };
  aliases[`${index}-events-${date}`] = { filter: { exists: { field: 'EventTimestamp' } } };
  return aliases;
}

export interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string };
}

/**
 * What to do with each item of a bulk reply: retry 429 and 5xx (Vector's rule), count the rest
 * of the failures as rejected for good (mapping errors and other 4xx).
 */
export function classifyBulkItems(items: readonly BulkItemResult[]): { ok: number[]; retry: number[]; rejected: { index: number; reason: string }[] } {
  const result = { ok: [] as number[], retry: [] as number[], rejected: [] as { index: number; reason: string }[] };
  items.forEach((item, index) => {
    // 409 on `create` (data streams): a retried write found its document already there.
    if ((item.status >= 200 && item.status < 300) || item.status === 409) result.ok.push(index);
    else if (item.status === 429 || item.status >= 500) result.retry.push(index);
    else result.rejected.push({ index, reason: `${item.status} ${item.error?.type ?? ''}: ${item.error?.reason ?? ''}`.trim() });
  });
  return result;
}
