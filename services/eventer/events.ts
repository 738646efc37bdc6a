/**
 * Kubernetes events for the sinks (pure functions). Kubernetes folds repeats of an event into one
 * object whose `count` and `lastTimestamp` grow: a (uid, count, lastTimestamp) is delivered once.
 *
 * Heapster's eventer schemas:
 * - InfluxDB default: measurement `log/events`, field `value` = the event's JSON, tags `uid`,
 *   `hostname` (source host), and for pod events `pod_id` and `pod_name`; time = lastTimestamp.
 * - InfluxDB `withfields=true`: measurement `events`, field `message`, tags `uid`, `object_name`,
 *   `type`, `kind`, `component`, `reason`, `namespace_name`, `hostname`, pod events `pod_id`.
 * - Both with `cluster_name`. A point is keyed by tags and time: a re-delivery overwrites itself.
 * - Elasticsearch: `{"EventTimestamp", "EventValue", "EventTags"}` in the daily index with an
 *   `<index>-events-<date>` alias; id = hash of uid, count and lastTimestamp.
 */
import { createHash } from 'node:crypto';
import type { EventRecord } from '../common/jobs.js';
import { toRfc3339 } from '../common/metric-export.js';
import { dailyIndex, type EsDocument } from '../exporter/sinks/elasticsearch-encode.js';

/** The fields of a v1 Event read here (client-node's V1Event is wider; times may be Date or string). */
export interface EventLike {
  metadata?: { uid?: string; namespace?: string; name?: string; creationTimestamp?: Date | string };
  involvedObject?: { kind?: string; name?: string; uid?: string };
  reason?: string;
  message?: string;
  type?: string;
  source?: { component?: string; host?: string };
  count?: number;
  firstTimestamp?: Date | string | null;
  lastTimestamp?: Date | string | null;
  eventTime?: Date | string | null;
}

const ms = (time: Date | string | null | undefined): number | undefined => (time === undefined || time === null ? undefined : new Date(time).getTime());

export function eventRecord(event: EventLike): EventRecord {
  const first = ms(event.firstTimestamp) ?? ms(event.eventTime) ?? ms(event.metadata?.creationTimestamp) ?? 0;
  return {
    uid: event.metadata?.uid ?? '',
    namespace: event.metadata?.namespace ?? '',
    name: event.metadata?.name ?? '',
    reason: event.reason ?? '',
    message: event.message ?? '',
    type: event.type ?? '',
    kind: event.involvedObject?.kind ?? '',
    objectName: event.involvedObject?.name ?? '',
    objectUid: event.involvedObject?.uid ?? '',
    component: event.source?.component ?? '',
    host: event.source?.host ?? '',
    count: event.count ?? 1,
    firstTimestampMs: first,
    lastTimestampMs: ms(event.lastTimestamp) ?? ms(event.eventTime) ?? first,
    json: JSON.stringify(event),
  };
}

/** What `P:events:delivered` keeps per uid. */
export const deliveredMark = (event: EventRecord): string => `${event.count}|${event.lastTimestampMs}`;

/** Whether `event` is news compared to what was delivered for its uid (a higher count or a later time). */
export function isNew(event: EventRecord, delivered: string | null | undefined): boolean {
  if (!delivered) return true;
  const [count, last] = delivered.split('|').map(Number) as [number, number];
  return event.count > count || event.lastTimestampMs > last;
}

/** A stable name for a batch: the same events give the same job id, so a re-enqueue is a no-op. */
export function batchHash(events: readonly EventRecord[]): string {
  const hash = createHash('sha1');
  for (const e of events) hash.update(`${e.uid}|${deliveredMark(e)};`);
  return hash.digest('hex').slice(0, 20);
}

const escapeKey = (text: string): string => text.replace(/[,= \\]/g, (c) => `\\${c}`);
const stringField = (text: string): string => `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;

function tags(pairs: Record<string, string>): string {
  return Object.keys(pairs)
    .filter((k) => pairs[k] !== '')
    .sort()
    .map((k) => `,${escapeKey(k)}=${escapeKey(pairs[k]!)}`)
    .join('');
}

export function encodeInfluxEventLines(events: readonly EventRecord[], options: { withFields: boolean; clusterName: string }): string[] {
  return events.map((e) => {
    const pod = e.kind === 'Pod';
    if (options.withFields) {
      const t = tags({ uid: e.uid, object_name: e.objectName, type: e.type, kind: e.kind, component: e.component, reason: e.reason, namespace_name: e.namespace, hostname: e.host, cluster_name: options.clusterName, ...(pod ? { pod_id: e.objectUid } : {}) });
      return `events${t} message=${stringField(e.message)} ${e.lastTimestampMs}`;
    }
    const t = tags({ uid: e.uid, hostname: e.host, cluster_name: options.clusterName, ...(pod ? { pod_id: e.objectUid, pod_name: e.objectName } : {}) });
    return `log/events${t} value=${stringField(e.json)} ${e.lastTimestampMs}`;
  });
}

export function encodeEsEventDocuments(events: readonly EventRecord[], options: { index: string; clusterName: string; dataStream: boolean }): EsDocument[] {
  return events.map((e) => {
    const time = toRfc3339(e.lastTimestampMs);
    const body: Record<string, unknown> = {
      EventTimestamp: time,
      EventValue: JSON.parse(e.json) as unknown,
      EventTags: { eventID: e.uid, hostname: e.host, cluster_name: options.clusterName, ...(e.kind === 'Pod' ? { pod_id: e.objectUid, pod_name: e.objectName } : {}) },
    };
    if (options.dataStream) body['@timestamp'] = time;
    const _id = createHash('sha1').update(`${options.index}|event|${e.uid}|${deliveredMark(e)}`).digest('hex');
    return { _id, _index: options.dataStream ? options.index : dailyIndex(options.index, e.lastTimestampMs), family: 'events', body };
  });
}
