import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { batchHash, deliveredMark, encodeEsEventDocuments, encodeInfluxEventLines, eventRecord, isNew, type EventLike } from '../../services/eventer/events.js';
import { FIXTURES } from '../helpers.js';

const events = ['aks_v1.16_apiserver_kube-system_eventlist.json', 'aks_v1.16_apiserver_default_eventlist.json'].flatMap((file) => (JSON.parse(readFileSync(join(FIXTURES, 'apiserver', file), 'utf8')) as { items: EventLike[] }).items.map(eventRecord));

describe('events (real AKS event list)', () => {
  it('reads every event: folded count, first and last timestamps, eventTime null, a missing source host', () => {
    assert.equal(events.length, 7);
    const big = events.reduce((a, b) => (a.count > b.count ? a : b));
    assert.equal(big.count, 70944);
    assert.ok(big.lastTimestampMs - big.firstTimestampMs > 10 * 86_400_000, 'one event spanning days');
    assert.ok(events.some((e) => e.host === ''), 'controller events have no source host');
  });
  it('an event is new when its count grows or its lastTimestamp moves; the same mark is not', () => {
    const e = events[0]!;
    assert.equal(isNew(e, null), true);
    assert.equal(isNew(e, deliveredMark(e)), false);
    assert.equal(isNew({ ...e, count: e.count + 1 }, deliveredMark(e)), true);
    assert.equal(isNew({ ...e, lastTimestampMs: e.lastTimestampMs + 1000 }, deliveredMark(e)), true);
    assert.equal(batchHash(events), batchHash([...events]));
    assert.notEqual(batchHash(events), batchHash([{ ...events[0]!, count: events[0]!.count + 1 }, ...events.slice(1)]));
  });
  it("InfluxDB lines in Heapster's two event schemas; Elasticsearch documents with stable ids", () => {
    const [plain] = encodeInfluxEventLines([events[0]!], { withFields: false, clusterName: 'aks' });
    assert.match(plain!, new RegExp(`^log/events,cluster_name=aks,.*uid=${events[0]!.uid} value="\\{.*\\}" ${events[0]!.lastTimestampMs}$`));
    assert.ok(!/hostname=(,| )/.test(plain!), 'empty tags are left out');
    const [fields] = encodeInfluxEventLines([events[0]!], { withFields: true, clusterName: 'aks' });
    assert.match(fields!, /^events,.*reason=[^,]+.*uid=[^ ]+ message=".*" \d+$/);
    const docs = encodeEsEventDocuments(events, { index: 'heapster', clusterName: 'aks', dataStream: false });
    assert.deepEqual(docs.map((d) => d._id), encodeEsEventDocuments(events, { index: 'heapster', clusterName: 'aks', dataStream: false }).map((d) => d._id));
    assert.equal((docs[0]!.body.EventTags as Record<string, string>).eventID, events[0]!.uid);
  });
});
