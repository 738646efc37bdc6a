import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { decodeMetricSet, decodeMetricSets, encodeMetricSet, encodeMetricSets, LABEL_CODES, METRIC_CODES, metricSetJson, packMetricSets, packRateSample, unpackMetricSets, unpackText } from '../../services/common/batch-codec.js';
import type { NamespaceMeta, PodMeta } from '../../services/common/jobs.js';
import { podNodesField } from '../../services/common/keys.js';
import { LABEL, METRICS, metricSetKey } from '../../services/common/metrics.js';
import { parseSummary } from '../../services/common/summary-parser.js';
import { rollUp } from '../../services/processor/aggregate.js';
import { DEFAULT_ENRICH_OPTIONS, labelsToString, parseStoreLabels } from '../../services/processor/enrich.js';
import { podsNotListed, processNode, withoutPods } from '../../services/processor/process-node.js';
import { namespaceMeta, nodeMeta, podMeta, type NamespaceLike, type NodeLike, type PodLike } from '../../services/scheduler/metadata.js';
import { FIXTURES, REPO_ROOT, setByKey, SUMMARY_FIXTURES, summaryFixture } from '../helpers.js';

const apiList = <T>(name: string): T[] => (JSON.parse(readFileSync(join(FIXTURES, 'apiserver', name), 'utf8')) as { items: T[] }).items;

/** The v1.35 minikube cluster: its summary and its API lists, captured at the same moment. */
function cluster135() {
  const node = nodeMeta(apiList<NodeLike>('nri_k8s_v1.35_apiserver_nodes_list.converted.json')[0]!);
  const pods = apiList<PodLike>('nri_k8s_v1.35_apiserver_pods_list.converted.json').map(podMeta).filter((p) => p.nodeName === node.name);
  const namespaces = new Map<string, NamespaceMeta>(apiList<NamespaceLike>('nri_k8s_v1.35_apiserver_namespaces_list.converted.json').map((n) => [n.metadata!.name!, namespaceMeta(n)]));
  const summary = summaryFixture('nri_k8s_v1.35_minikube_containerd_stats_summary.json');
  return { node, pods, namespaces, summary };
}

describe('processor: enrichment and aggregation against real API objects (v1.35 minikube)', () => {
  const { node, pods, namespaces, summary } = cluster135();
  const batch = parseSummary(summary, { nodeName: node.name, receivedAtMs: Date.parse('2026-06-26T10:30:00Z') });
  const result = processNode(batch.metricSets, [], { nodeName: node.name, node, pods, namespaces }, DEFAULT_ENRICH_OPTIONS);
  const byPod = (name: string): PodMeta => pods.find((p) => p.name === name)!;

  it('pods are joined by namespace/name: a static pod gets its mirror pod\'s API uid, not the kubelet\'s config hash', () => {
    const etcd = setByKey(result.sets, metricSetKey.pod('kube-system', 'etcd-datagen-1-35'));
    assert.equal(etcd.labels.pod_id, byPod('etcd-datagen-1-35').uid);
    assert.notEqual(batch.metricSets.length, 0);
    assert.equal(etcd.labels.namespace_id, namespaces.get('kube-system')!.uid);
  });

  it('containers get requests and limits in millicores and bytes (decimal 5M and binary Mi), 0 where unset, and restart counts', () => {
    const creating = setByKey(result.sets, metricSetKey.podContainer('scraper', 'e2e-container-creating', 'alpine'));
    assert.equal(creating.values['cpu/request'], 5);
    assert.equal(creating.values['memory/limit'], 5_000_000);
    const coredns = setByKey(result.sets, metricSetKey.podContainer('kube-system', 'coredns-7d764666f9-qdcxt', 'coredns'));
    assert.equal(coredns.values['memory/request'], 70 * 1024 * 1024);
    assert.equal(coredns.values['cpu/limit'], 0, 'no cpu limit is written as 0, as Heapster did');
    assert.equal(coredns.labels.container_base_image, byPod('coredns-7d764666f9-qdcxt').containers[0]!.image);
    assert.equal(typeof coredns.values['restart_count'], 'number');
  });

  it('a Running pod the summary lacks gets a stub with its requests; Pending, Succeeded and Failed pods get none', () => {
    const creating = setByKey(result.sets, metricSetKey.pod('scraper', 'e2e-container-creating'));
    assert.equal(creating.values['cpu/request'], 5, 'the stub pod sums its containers\' requests');
    assert.equal(creating.values['cpu/usage_rate'], undefined);
    for (const name of ['e2e-container-pending', 'e2e-cronjob-29707813-dhlr2', 'e2e-failjob-28dqq']) {
      assert.equal(result.sets.find((s) => s.key === metricSetKey.pod('scraper', name)), undefined, `${name} has no set`);
    }
  });

  it('a pod the summary reports but the API server does not list on the node is found, and can be left out with its containers', () => {
    const coredns = pods.find((p) => p.name.startsWith('coredns-'))!;
    const listedElsewhere = pods.filter((p) => p !== coredns);
    const parsed = parseSummary(summary, { nodeName: node.name }).metricSets;
    assert.deepEqual(podsNotListed(parsed, pods), [], 'every reported pod is listed on this node');
    const unlisted = podsNotListed(parsed, listedElsewhere);
    assert.deepEqual(unlisted, [podNodesField(coredns.namespace, coredns.name)]);
    const kept = withoutPods(parsed, new Set(unlisted));
    const podKey = metricSetKey.pod(coredns.namespace, coredns.name);
    assert.deepEqual(parsed.filter((s) => !kept.includes(s)).map((s) => s.key).sort(), [podKey, metricSetKey.podContainer(coredns.namespace, coredns.name, 'coredns')]);
    assert.equal(kept.length, parsed.length - 2, 'the node, system containers and other pods stay');
  });

  it('pod labels are joined sorted as key:value by the separator, ignored labels left out, stored labels kept apart', () => {
    assert.equal(labelsToString({ b: '2', a: '1', skip: 'x' }, ';', new Set(['skip'])), 'a:1;b:2');
    const options = { labelSeparator: ';', storeLabels: parseStoreLabels(['app=k8s-app', 'tier']), ignoreLabels: new Set(['pod-template-hash']) };
    const again = processNode(parseSummary(summary, { nodeName: node.name }).metricSets, [], { nodeName: node.name, node, pods, namespaces }, options);
    const coredns = setByKey(again.sets, metricSetKey.pod('kube-system', 'coredns-7d764666f9-qdcxt'));
    const podLabels = byPod('coredns-7d764666f9-qdcxt').labels;
    assert.equal(coredns.labels.app, podLabels['k8s-app']);
    assert.ok(!coredns.labels.labels!.includes('pod-template-hash'));
    assert.equal(coredns.labels.labels!.split(';').length, Object.keys(podLabels).length - 1);
  });

  it('the node gets capacity, allocatable, summed requests, reservation and utilization', () => {
    const nodeSet = setByKey(result.sets, metricSetKey.node(node.name));
    assert.equal(nodeSet.values['cpu/node_capacity'], 14_000);
    assert.equal(nodeSet.values['memory/node_allocatable'], 8024304 * 1024);
    const runningRequests = result.sets.filter((s) => s.type === 'pod').reduce((sum, s) => sum + Number(s.values['cpu/request'] ?? 0), 0);
    assert.equal(nodeSet.values['cpu/request'], runningRequests);
    assert.equal(nodeSet.values['cpu/node_reservation'], runningRequests / 14_000);
    const workingSet = Number(nodeSet.values['memory/working_set']);
    assert.equal(nodeSet.values['memory/node_utilization'], workingSet / (8024304 * 1024));
  });

  it('namespaces and the cluster roll up the node partials', () => {
    const rollups = rollUp([result.partial, result.partial], namespaces, 0);
    const scraperNs = setByKey(rollups, metricSetKey.namespace('scraper'));
    const scraperPods = result.sets.filter((s) => s.type === 'pod' && s.labels.namespace_name === 'scraper');
    const ws = scraperPods.reduce((sum, s) => sum + Number(s.values['memory/working_set'] ?? 0), 0);
    assert.equal(scraperNs.values['memory/working_set'], 2 * ws, 'two nodes, each with the same pods, add up');
    const cluster = setByKey(rollups, 'cluster');
    assert.equal(cluster.values['cpu/node_allocatable'], 28_000);
  });

  it('rates come from the previous sample kept for the next window, surviving the codec with bigints intact', () => {
    const later = summary.replace(/"usageCoreNanoSeconds":\s*(\d+)/g, (_m, n: string) => `"usageCoreNanoSeconds": ${BigInt(n) + 30_000_000_000n}`).replace(/"time":\s*"2026-06-26T10:(\d\d):(\d\d)Z"/g, (_m, mm: string, ss: string) => `"time": "2026-06-26T${String(Number(mm) + 10 > 59 ? 11 : 10)}:${String((Number(mm) + 1) % 60).padStart(2, '0')}:${ss}Z"`);
    const previous = unpackMetricSets(result.rateSample);
    const next = processNode(parseSummary(later, { nodeName: node.name }).metricSets, previous, { nodeName: node.name, node, pods, namespaces }, DEFAULT_ENRICH_OPTIONS);
    const coredns = setByKey(next.sets, metricSetKey.podContainer('kube-system', 'coredns-7d764666f9-qdcxt', 'coredns'));
    // 30 s of CPU over one minute: 500 millicores.
    assert.equal(coredns.values['cpu/usage_rate'], 500);
  });
});

describe('metric values objects', () => {
  it('are plain objects that V8 keeps in fast mode: every set of every summary fixture, processed with rates, and decoded from its stored form', () => {
    // A pod's ~26 values added by name made V8 turn its values object into a dictionary (slow to
    // write, read, copy and walk); newMetricValues gives them room. %HasFastProperties needs
    // --allow-natives-syntax, so the check runs in a child process.
    const { node, pods, namespaces } = cluster135();
    const minikubeFile = 'nri_k8s_v1.35_minikube_containerd_stats_summary.json';
    const dist = (path: string): string => JSON.stringify(pathToFileURL(join(REPO_ROOT, 'dist', 'services', path)).href);
    const script = `
      import { readFileSync, readdirSync } from 'node:fs';
      import { join } from 'node:path';
      const { parseSummary } = await import(${dist('common/summary-parser.js')});
      const { processNode } = await import(${dist('processor/process-node.js')});
      const { DEFAULT_ENRICH_OPTIONS } = await import(${dist('processor/enrich.js')});
      const { unpackMetricSets, packMetricSets } = await import(${dist('common/batch-codec.js')});
      const dir = ${JSON.stringify(SUMMARY_FIXTURES)};
      const minikube = ${JSON.stringify({ file: minikubeFile, node, pods, namespaces: [...namespaces] })};
      const report = { sets: 0, slow: [], notPlain: 0, mostValues: 0 };
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
        const text = readFileSync(join(dir, file), 'utf8');
        // The v1.35 minikube summary with its API objects (enriched: requests, limits, restarts); the rest without.
        const context = file === minikube.file
          ? { nodeName: minikube.node.name, node: minikube.node, pods: minikube.pods, namespaces: new Map(minikube.namespaces) }
          : { nodeName: 'n', pods: [], namespaces: new Map() };
        const parsed = () => parseSummary(text, { nodeName: context.nodeName, receivedAtMs: 1 }).metricSets;
        const first = processNode(parsed(), [], context, DEFAULT_ENRICH_OPTIONS);
        const previous = unpackMetricSets(first.rateSample);
        const second = processNode(parsed(), previous, context, DEFAULT_ENRICH_OPTIONS);
        for (const set of [...second.sets, ...previous, ...unpackMetricSets(packMetricSets(second.sets))]) {
          report.sets++;
          report.mostValues = Math.max(report.mostValues, Object.keys(set.values).length);
          if (!%HasFastProperties(set.values)) report.slow.push(file + ' ' + set.key + ' (' + Object.keys(set.values).length + ' values)');
          if (Object.getPrototypeOf(set.values) !== Object.prototype) report.notPlain++;
        }
      }
      console.log(JSON.stringify(report));`;
    const child = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const report = JSON.parse(child.stdout) as { sets: number; slow: string[]; notPlain: number; mostValues: number };
    assert.ok(report.sets > 400, `${report.sets} sets checked`);
    assert.ok(report.mostValues >= 26, `the fullest set has ${report.mostValues} values`);
    assert.deepEqual(report.slow.slice(0, 5), [], `${report.slow.length} values objects in dictionary mode`);
    assert.equal(report.notPlain, 0);
  });
});

describe('batch codec', () => {
  it('keeps values above 2^53 exact through JSON', () => {
    const set = { key: 'node:n', type: 'node' as const, labels: {}, scrapeTimeMs: 1, sampleTimesMs: {}, values: { 'cpu/usage': 2n ** 63n + 5n, 'memory/usage': 7 }, labeled: [{ name: 'filesystem/inodes_free', labels: { resource_id: '/' }, value: 2n ** 64n - 1n }] };
    const [decoded] = decodeMetricSets(encodeMetricSets([set]));
    assert.equal(decoded!.values['cpu/usage'], 2n ** 63n + 5n);
    assert.equal(decoded!.values['memory/usage'], 7);
    assert.equal(decoded!.labeled[0]!.value, 2n ** 64n - 1n);
  });

  it('round-trips every set of a real summary exactly, in a form far smaller than the object as JSON', () => {
    const sets = parseSummary(summaryFixture('nri_k8s_v1.35_minikube_containerd_stats_summary.json')).metricSets;
    const encoded = sets.map((set) => encodeMetricSet(set));
    assert.deepEqual(encoded.map((text) => decodeMetricSet(text)), sets);
    const asObjects = sets.map((set) => metricSetJson(set));
    assert.ok(encoded.join('').length < 0.5 * asObjects.join('').length, `${encoded.join('').length} vs ${asObjects.join('').length} characters`);
    assert.deepEqual(asObjects.map((text) => decodeMetricSet(text)), sets, 'the older object form still decodes');
  });

  it('packs a node\'s sets to a fraction of their JSON and unpacks them exactly; text written unpacked reads as it is', () => {
    const sets = parseSummary(summaryFixture('nri_k8s_v1.35_minikube_containerd_stats_summary.json')).metricSets;
    const text = encodeMetricSets(sets);
    const packed = packMetricSets(sets);
    assert.ok(packed.length < text.length / 3, `${packed.length} of ${text.length} bytes`);
    assert.equal(unpackText(packed), text);
    assert.deepEqual(unpackMetricSets(packed), sets);
    assert.deepEqual(unpackMetricSets(Buffer.from(text)), sets, 'a rate sample written before packing');
    assert.deepEqual(unpackMetricSets(packed, (key) => key === sets[1]!.key), [sets[1]], 'only the wanted sets');
  });

  it('codes every catalogue metric (append-only), writes a name without a code as itself, and reads the older compact form', () => {
    const uncoded = METRICS.filter((m) => !METRIC_CODES.includes(m.name)).map((m) => m.name);
    assert.deepEqual(uncoded, [], 'append these to METRIC_CODES');
    assert.equal(new Set(METRIC_CODES).size, METRIC_CODES.length);
    assert.deepEqual(METRIC_CODES.slice(0, 4), ['uptime', 'restart_count', 'cpu/usage', 'cpu/usage_rate'], 'codes already stored never move');
    const set = { key: 'node:n', type: 'node' as const, labels: { type: 'node' }, scrapeTimeMs: 10, sampleTimesMs: { cpu: 9 }, values: { 'cpu/usage': 5, 'custom/thing': 2n ** 60n }, labeled: [{ name: 'filesystem/usage', labels: { resource_id: '/' }, value: 1 }] };
    const text = encodeMetricSet(set);
    assert.match(text, /\[2,5,"custom\/thing","1152921504606846976"\]/);
    assert.deepEqual(decodeMetricSet(text), set);
    const olderCompact = '["node:n","node",{"type":"node"},null,10,[-1],{"cpu/usage":5,"custom/thing":"1152921504606846976"},[[{"resource_id":"/"},{"filesystem/usage":1}]]]';
    assert.deepEqual(decodeMetricSet(olderCompact), set);
  });

  it('codes every label (append-only) and writes labels that repeat the set\'s type or another label as references, decoded exactly and in order', () => {
    assert.deepEqual(Object.values(LABEL).filter((name) => !LABEL_CODES.includes(name)), [], 'append these to LABEL_CODES');
    assert.equal(new Set(LABEL_CODES).size, LABEL_CODES.length);
    assert.deepEqual(LABEL_CODES.slice(0, 3), ['type', 'nodename', 'hostname'], 'codes already stored never move');
    const labels = { nodename: 'n1', hostname: 'n1', custom: 'pod', type: 'pod', pod_name: 'p', labels: '', namespace_name: '', [LABEL.resourceId]: '7' };
    const set = { key: 'namespace:a/pod:p', type: 'pod' as const, labels, scrapeTimeMs: 10, sampleTimesMs: {}, values: { 'cpu/usage': 5 }, labeled: [{ name: 'filesystem/usage', labels: { resource_id: 'n1', custom: 'pod' }, value: 1 }] };
    const text = encodeMetricSet(set);
    assert.match(text, /\[1,"n1",2,0,"custom",-1,0,-1,6,"p",10,"",4,5,11,"7"\]/, 'hostname refers to nodename, type and custom to the set type, an empty value to the earlier one');
    const decoded = decodeMetricSet(text);
    assert.deepEqual(decoded, set);
    assert.deepEqual(Object.keys(decoded.labels), Object.keys(labels), 'labels keep their order');
    assert.deepEqual(decodeMetricSets(encodeMetricSets([set, { ...set, type: 'pod_container' }])).map((s) => s.labels.type), ['pod', 'pod'], 'a value equal to another type is not taken for it');
  });

  it('a rate sample keeps a set\'s times, start and the counters rates read (exact past 2^53, labeled ones too), and nothing else', () => {
    const set = {
      key: 'namespace:a/pod:p', type: 'pod' as const, labels: { type: 'pod', pod_name: 'p' }, createTimeMs: 5, scrapeTimeMs: 100, sampleTimesMs: { cpu: 100, memory: 98, fs: 90 },
      values: { 'cpu/usage': 2n ** 60n + 1n, 'memory/usage': 7, 'memory/page_faults': 3, 'network/rx': 11, uptime: 95, 'cpu/usage_rate': 250 },
      labeled: [{ name: 'filesystem/usage', labels: { resource_id: '/' }, value: 1 }, { name: 'disk/io_read_bytes', labels: { resource_id: 'sda' }, value: 4 }],
    };
    const empty = { ...set, key: 'namespace:a/pod:q', values: {}, labeled: [] };
    const samples = unpackMetricSets(packRateSample([empty, set, empty]));
    assert.deepEqual(samples.map((s) => s.key), [set.key], 'a set with no values is left out');
    const [sample] = samples;
    assert.deepEqual(sample, {
      key: set.key, type: 'pod', labels: {}, createTimeMs: 5, scrapeTimeMs: 100, sampleTimesMs: { cpu: 100, memory: 98, fs: 90 },
      values: { 'cpu/usage': 2n ** 60n + 1n, 'memory/page_faults': 3, 'network/rx': 11 },
      labeled: [{ name: 'disk/io_read_bytes', labels: { resource_id: 'sda' }, value: 4 }],
    });
  });

  it('writes keys and labels that need escaping or are not ASCII, and values that are not integers, as JSON.stringify would, and reads them back exactly', () => {
    const labels = { type: 'pod', pod_name: 'we"b\\1', namespace_name: 'café', labels: 'app:日本;emoji:😀;line:a\nb', custom: 'lone \ud800' };
    const set = {
      key: 'namespace:café/pod:we"b\\1', type: 'pod' as const, labels, createTimeMs: 1_700_000_000_000, scrapeTimeMs: 1_700_000_060_123, sampleTimesMs: { cpu: 1_700_000_060_000, network: 1_700_000_060_500 },
      values: { 'cpu/usage_rate': 250, 'memory/page_faults_rate': 0.25, 'custom/negative': -3, 'custom/huge': 1e21, 'cpu/usage': 2n ** 63n },
      labeled: [{ name: 'filesystem/usage', labels: { resource_id: 'vol "x"' }, value: 1.5 }],
    };
    const text = encodeMetricSet(set);
    assert.equal(text, JSON.stringify(JSON.parse(text)), 'the bytes are what JSON.stringify writes for them');
    assert.deepEqual(decodeMetricSet(text), set);
    assert.deepEqual(unpackMetricSets(packMetricSets([set, set])), [set, set]);
  });

  it('keeps two values of one metric with the same labels, and labeled values in their order', () => {
    const fs = { resource_id: '/' };
    const set = { key: 'node:n', type: 'node' as const, labels: { type: 'node' }, scrapeTimeMs: 10, sampleTimesMs: { fs: 7 }, values: {}, labeled: [{ name: 'filesystem/usage', labels: fs, value: 1 }, { name: 'filesystem/usage', labels: { ...fs }, value: 2 }, { name: 'filesystem/limit', labels: { resource_id: 'logs' }, value: 3 }] };
    assert.deepEqual(decodeMetricSet(encodeMetricSet(set)), set);
  });
});
