import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseSource } from '../../services/common/source.js';
import { kubeletUrl, nodeMeta, parseQuantity, podMeta, type NodeLike, type PodLike } from '../../services/scheduler/metadata.js';
import { dueWindowStart, planWindow, scrapeDelayMs, windowStartOf } from '../../services/scheduler/windows.js';
import { ClusterMetadata } from '../../services/scheduler/discovery.js';
import { scrapeJobsByShard } from '../../services/scheduler/scheduler.js';
import { NODES_PER_SCRAPE_JOB } from '../../services/common/jobs.js';
import { JOB_ID, scrapeShardOf } from '../../services/common/keys.js';
import { FIXTURES } from '../helpers.js';

const apiList = <T>(name: string): T[] => (JSON.parse(readFileSync(join(FIXTURES, 'apiserver', name), 'utf8')) as { items: T[] }).items;

describe('windows (Heapster alignment)', () => {
  const timing = { resolutionMs: 60_000, offsetMs: 5000, deadlineAfterScrapeMs: 0 };
  it('aligns windows to the resolution and scrapes at end + offset, with the deadline 75% of a window later', () => {
    assert.equal(windowStartOf(125_000, 60_000), 120_000);
    const plan = planWindow(120_000, timing, ['a']);
    assert.deepEqual([plan.windowEndMs, plan.scrapeAtMs, plan.deadlineMs], [180_000, 185_000, 230_000]);
  });
  it('the due window is the latest whose scrape time has come', () => {
    assert.equal(dueWindowStart(184_999, timing), 60_000);
    assert.equal(dueWindowStart(185_000, timing), 120_000);
  });
  it('spreads scrapes by up to 8 ms per node, capped, stable per node', () => {
    const delays = Array.from({ length: 1000 }, (_, i) => scrapeDelayMs(`node-${i}`, 1000, 4000));
    assert.ok(delays.every((d) => d >= 0 && d < 4000));
    assert.ok(new Set(delays.map((d) => Math.floor(d / 400))).size === 10, 'delays cover the whole spread');
    assert.equal(scrapeDelayMs('node-1', 1000, 4000), scrapeDelayMs('node-1', 1000, 4000));
    assert.ok(scrapeDelayMs('node-1', 3, 4000) < 24);
  });
});

describe('metadata from real API objects', () => {
  it('parses the AKS node\'s mixed quantity forms ("2" vs "1900m", Ki vs plain bytes) and its Ready condition', () => {
    const node = nodeMeta(apiList<NodeLike>('aks_v1.16_apiserver_nodelist.json')[0]!);
    assert.deepEqual(node.capacity, { cpuMilliCores: 2000, memoryBytes: 7113664 * 1024, ephemeralBytes: 101445900 * 1024 });
    assert.deepEqual(node.allocatable, { cpuMilliCores: 1900, memoryBytes: 4668352 * 1024, ephemeralBytes: 93492541286 });
    assert.equal(node.ready, true);
  });
  it('parses Kubernetes quantities', () => {
    assert.equal(parseQuantity('250m'), 0.25);
    assert.equal(parseQuantity('5M'), 5e6);
    assert.equal(parseQuantity('1e3'), 1000);
    assert.equal(parseQuantity('1.5Gi'), 1.5 * 1024 ** 3);
    assert.equal(parseQuantity('abc'), undefined);
  });
  it('reaches kubelets at the preferred address type and the status port (capital P) or the configured port', () => {
    const node = apiList<NodeLike>('aks_v1.16_apiserver_nodelist.json')[0]!;
    assert.equal(kubeletUrl(node, { preferredAddressTypes: ['InternalIP', 'Hostname'], useNodeStatusPort: true, port: 1, https: true }), 'https://10.240.0.4:10250');
    assert.equal(kubeletUrl(node, { preferredAddressTypes: ['ExternalIP', 'Hostname'], useNodeStatusPort: false, port: 10255, https: false }), 'http://aks-nodepool1-28869405-vmss000000:10255');
    assert.equal(kubeletUrl(node, { preferredAddressTypes: ['ExternalIP'], useNodeStatusPort: false, port: 10250, https: true }), undefined);
    const v6 = { status: { addresses: [{ type: 'InternalIP', address: 'fd00::5' }] } };
    assert.equal(kubeletUrl(v6, { preferredAddressTypes: ['InternalIP'], useNodeStatusPort: false, port: 10250, https: true }), 'https://[fd00::5]:10250');
  });
  it('only Ready nodes with an address are scrape targets; pods are published per node, moves and deletes included', () => {
    const metadata = new ClusterMetadata({ preferredAddressTypes: ['InternalIP'], useNodeStatusPort: true, port: 10250, https: true });
    const aks = apiList<NodeLike>('aks_v1.16_apiserver_nodelist.json')[0]!;
    metadata.upsertNode(aks);
    metadata.upsertNode({ ...aks, metadata: { name: 'down' }, status: { ...aks.status, conditions: [{ type: 'Ready', status: 'False' }] } });
    assert.deepEqual(metadata.targets().map((t) => t.nodeName), ['aks-nodepool1-28869405-vmss000000']);
    const pods = apiList<PodLike>('aks_v1.16_apiserver_kube-system_podlist.json').map(podMeta);
    for (const pod of pods) metadata.upsertPod(pod);
    assert.equal(metadata.counts.pods, 10);
    assert.ok(pods.every((p) => p.owner.startsWith('ReplicaSet/') || p.owner.startsWith('DaemonSet/')));
    metadata.deletePod(pods[0]!.namespace, pods[0]!.name);
    assert.equal(metadata.counts.pods, 9);
  });
});

describe("Heapster's --source", () => {
  it('reads every option, with secure defaults', () => {
    assert.deepEqual(parseSource('kubernetes.summary_api:'), { inClusterConfig: true, kubeletPort: 10250, kubeletHttps: true, insecure: false, useServiceAccount: false });
    const source = parseSource('kubernetes.summary_api:https://kubernetes.default?inClusterConfig=false&kubeletPort=10255&kubeletHttps=false&insecure=true&auth=/etc/kube/config&useServiceAccount=true');
    assert.deepEqual(source, { apiServerUrl: 'https://kubernetes.default', inClusterConfig: false, kubeletPort: 10255, kubeletHttps: false, insecure: true, kubeconfigPath: '/etc/kube/config', useServiceAccount: true });
  });
  it('names every problem', () => {
    assert.throws(() => parseSource('kubernetes.summary_api:https://x?kubeletPrt=1&insecure=maybe'), /unknown option "kubeletPrt".*insecure=maybe: must be true or false/);
    assert.throws(() => parseSource('prometheus:http://x'), /must start with "kubernetes.summary_api:"/);
  });
});

describe('scrape jobs: a few nodes of one shard each', () => {
  const window = { windowStartMs: 120_000, scrapeAtMs: 185_000, deadlineMs: 230_000 };
  const scrapes = Array.from({ length: 300 }, (_, i) => ({ target: { nodeName: `node-${i}`, kubeletUrl: `https://10.0.${i >> 8}.${i & 255}:10250` }, spreadMs: scrapeDelayMs(`node-${i}`, 300, 2400) }));

  it('puts every node in exactly one job of its shard, at most NODES_PER_SCRAPE_JOB to a job, started at its first node\'s time', () => {
    const byShard = scrapeJobsByShard(scrapes, window, 180_000, 120);
    const seen: string[] = [];
    let jobs = 0;
    for (const [shard, entries] of byShard) {
      for (const entry of entries) {
        jobs++;
        const nodes = entry.data.nodes;
        assert.ok(nodes.length >= 1 && nodes.length <= NODES_PER_SCRAPE_JOB);
        assert.ok(nodes.every((n) => scrapeShardOf(n.nodeName) === shard), 'a job holds nodes of its own shard only');
        assert.equal(entry.opts?.jobId, JOB_ID.scrape(nodes[0]!.nodeName, window.windowStartMs));
        const spreads = nodes.map((n) => scrapes.find((s) => s.target.nodeName === n.nodeName)!.spreadMs);
        assert.deepEqual(spreads, [...spreads].sort((a, b) => a - b), 'a job\'s nodes are neighbours in the spread');
        assert.equal(entry.opts?.delay, window.scrapeAtMs + spreads[0]! - 180_000);
        assert.equal(entry.data.deadlineMs, window.deadlineMs);
        seen.push(...nodes.map((n) => n.nodeName));
      }
    }
    assert.deepEqual(seen.sort(), scrapes.map((s) => s.target.nodeName).sort());
    assert.ok(jobs <= Math.ceil(300 / NODES_PER_SCRAPE_JOB) + byShard.size, `${jobs} jobs for 300 nodes`);
  });

  it('the same nodes give the same job ids and nodes, in any order and later (a repeated enqueue adds nothing)', () => {
    const ids = (now: number, input: typeof scrapes) =>
      [...scrapeJobsByShard(input, window, now, 120).values()].flat().map((e) => `${e.opts?.jobId}:${e.data.nodes.map((n) => n.nodeName).join(',')}`).sort();
    assert.deepEqual(ids(200_000, [...scrapes].reverse()), ids(180_000, scrapes));
    const late = [...scrapeJobsByShard(scrapes, window, 200_000, 120).values()].flat();
    assert.ok(late.every((e) => e.opts?.delay === 0), 'past its time a job starts at once');
  });
});
