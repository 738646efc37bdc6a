import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type PeerCertificate } from 'node:tls';
import { request } from 'undici';
import { parseSummary, SummaryParseError } from '../../services/common/summary-parser.js';
import { applyRates, computeRates } from '../../services/processor/rates.js';
import { KubeletClient, ScrapeError } from '../../services/scraper/kubelet-client.js';
import { Simulator } from '../../simulator/simulator.js';
import { SUMMARY_FIXTURES, setByKey } from '../helpers.js';

interface List {
  kind: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: { metadata: { name: string; namespace?: string; resourceVersion: string }; spec?: Record<string, unknown>; status?: Record<string, unknown> }[];
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const response = await request(url);
  return { status: response.statusCode, body: (await response.body.json()) as T };
}

async function post(url: string, body: unknown): Promise<unknown> {
  const response = await request(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return response.body.json();
}

/** Reads a watch stream until `count` events arrived or `timeoutMs` passed. */
async function watchEvents(url: string, count: number, timeoutMs = 5000): Promise<{ type: string; object: Record<string, unknown> }[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const events: { type: string; object: Record<string, unknown> }[] = [];
  try {
    const response = await request(url, { signal: controller.signal });
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += (chunk as Buffer).toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        events.push(JSON.parse(buffer.slice(0, newline)) as { type: string; object: Record<string, unknown> });
        buffer = buffer.slice(newline + 1);
        if (events.length >= count) {
          controller.abort();
          return events;
        }
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
  }
  return events;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('simulator API server', () => {
  let sim: Simulator;
  before(async () => {
    sim = await Simulator.start({ nodes: 4, podsPerNode: 5, containersPerPod: 2, seed: 7 });
  });
  after(() => sim.stop());

  it('lists nodes with capacity, allocatable, Ready, addresses and the kubelet port', async () => {
    const { status, body } = await getJson<List>(`${sim.apiUrl}/api/v1/nodes`);
    assert.equal(status, 200);
    assert.equal(body.kind, 'NodeList');
    assert.equal(body.items.length, 4);
    const node = body.items[0]!;
    const nodeStatus = node.status as { capacity: Record<string, string>; allocatable: Record<string, string>; conditions: { type: string; status: string }[]; addresses: { type: string; address: string }[]; daemonEndpoints: { kubeletEndpoint: { Port: number } } };
    assert.match(nodeStatus.capacity.cpu!, /^\d+$/);
    assert.match(nodeStatus.allocatable.cpu!, /^\d+m$/);
    assert.match(nodeStatus.capacity.memory!, /Gi$/);
    assert.equal(nodeStatus.conditions.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(nodeStatus.addresses.find((a) => a.type === 'InternalIP')?.address, '127.0.0.1');
    assert.equal(nodeStatus.daemonEndpoints.kubeletEndpoint.Port, sim.node(node.metadata.name).port);
  });

  it('lists pods with requests, limits, owners and phases, including ones no kubelet reports', async () => {
    const { body } = await getJson<List>(`${sim.apiUrl}/api/v1/pods`);
    assert.equal(body.items.length, 4 * 5 + 2);
    const phases = body.items.map((p) => (p.status as { phase: string }).phase);
    assert.equal(phases.filter((p) => p === 'Running').length, 20);
    assert.ok(phases.includes('Pending') && phases.includes('Succeeded'));
    const running = body.items.find((p) => (p.status as { phase: string }).phase === 'Running')!;
    const containers = (running.spec as { containers: { resources: { requests: Record<string, string> } }[] }).containers;
    assert.equal(containers.length, 2);
    assert.ok(containers[0]!.resources.requests.cpu);
    assert.equal((running as unknown as { metadata: { ownerReferences: { kind: string }[] } }).metadata.ownerReferences[0]!.kind, 'ReplicaSet');
  });

  it('filters by namespace, field selector and label selector', async () => {
    const node = sim.cluster.nodes[1]!.name;
    const onNode = await getJson<List>(`${sim.apiUrl}/api/v1/pods?fieldSelector=spec.nodeName%3D${node}`);
    assert.equal(onNode.body.items.length, 5);
    const inNamespace = await getJson<List>(`${sim.apiUrl}/api/v1/namespaces/kube-system/pods`);
    assert.ok(inNamespace.body.items.length > 0);
    assert.ok(inNamespace.body.items.every((p) => p.metadata.namespace === 'kube-system'));
    const app = (onNode.body.items[0] as unknown as { metadata: { labels: { app: string } } }).metadata.labels.app;
    const byLabel = await getJson<List>(`${sim.apiUrl}/api/v1/pods?labelSelector=app%3D${app}`);
    assert.ok(byLabel.body.items.length >= 1);
    assert.ok(byLabel.body.items.every((p) => (p as unknown as { metadata: { labels: { app: string } } }).metadata.labels.app === app));
    const bad = await request(`${sim.apiUrl}/api/v1/pods?labelSelector=%3D%3D%3D`);
    assert.equal(bad.statusCode, 400);
    await bad.body.dump();
  });

  it('pages lists with limit and continue', async () => {
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const { body } = await getJson<List>(`${sim.apiUrl}/api/v1/pods?limit=7${token ? `&continue=${token}` : ''}`);
      names.push(...body.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`));
      token = body.metadata.continue;
      pages++;
    } while (token);
    assert.equal(pages, 4);
    assert.equal(new Set(names).size, 22);
  });

  it('serves discovery documents and version', async () => {
    const api = await getJson<{ versions: string[] }>(`${sim.apiUrl}/api`);
    assert.deepEqual(api.body.versions, ['v1']);
    const v1 = await getJson<{ resources: { name: string; namespaced: boolean }[] }>(`${sim.apiUrl}/api/v1`);
    assert.deepEqual(v1.body.resources.map((r) => r.name).sort(), ['events', 'namespaces', 'nodes', 'pods']);
    assert.equal((await getJson<{ major: string }>(`${sim.apiUrl}/version`)).body.major, '1');
  });

  it('watches from a resourceVersion: a new pod arrives as ADDED with its events', async () => {
    const { body } = await getJson<List>(`${sim.apiUrl}/api/v1/pods`);
    const fromVersion = body.metadata.resourceVersion;
    const watching = watchEvents(`${sim.apiUrl}/api/v1/pods?watch=1&resourceVersion=${fromVersion}`, 1);
    await sleep(100);
    const created = (await post(`${sim.apiUrl}/simulator/pods`, { node: sim.cluster.nodes[0]!.name, namespace: 'team-1' })) as { name: string };
    const events = await watching;
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, 'ADDED');
    assert.equal((events[0]!.object.metadata as { name: string }).name, created.name);
    assert.ok(Number((events[0]!.object.metadata as { resourceVersion: string }).resourceVersion) > Number(fromVersion));
    const kubeEvents = await getJson<List>(`${sim.apiUrl}/api/v1/namespaces/team-1/events`);
    const reasons = kubeEvents.body.items
      .filter((e) => (e as unknown as { involvedObject: { name: string } }).involvedObject.name === created.name)
      .map((e) => (e as unknown as { reason: string }).reason);
    assert.deepEqual([...new Set(reasons)].sort(), ['Created', 'Pulled', 'Scheduled', 'Started']);
  });

  it('replays history to a watch that starts at an older version, then 410 Gone once expired', async () => {
    const { body } = await getJson<List>(`${sim.apiUrl}/api/v1/pods`);
    const pod = body.items.find((p) => (p.status as { phase: string }).phase === 'Running')!;
    await post(`${sim.apiUrl}/simulator/pods/delete`, { namespace: pod.metadata.namespace, pod: pod.metadata.name });
    const replay = await watchEvents(`${sim.apiUrl}/api/v1/pods?watch=true&resourceVersion=${body.metadata.resourceVersion}`, 1);
    assert.equal(replay[0]?.type, 'DELETED');
    assert.equal((replay[0]!.object.metadata as { name: string }).name, pod.metadata.name);
    await post(`${sim.apiUrl}/simulator/expire-history`, {});
    const gone = await watchEvents(`${sim.apiUrl}/api/v1/pods?watch=1&resourceVersion=${body.metadata.resourceVersion}`, 1);
    assert.equal(gone[0]?.type, 'ERROR');
    assert.equal((gone[0]!.object as { code: number }).code, 410);
    assert.equal((gone[0]!.object as { reason: string }).reason, 'Expired');
  });

  it('folds repeated events: a restarted container bumps the BackOff count', async () => {
    const pod = [...sim.cluster.pods.values()].find((p) => p.phase === 'Running' && p.nodeName)!;
    await post(`${sim.apiUrl}/simulator/restart`, { namespace: pod.namespace, pod: pod.name });
    await post(`${sim.apiUrl}/simulator/restart`, { namespace: pod.namespace, pod: pod.name });
    const { body } = await getJson<List>(`${sim.apiUrl}/api/v1/namespaces/${pod.namespace}/events`);
    const backoff = body.items.find((e) => (e as unknown as { reason: string; involvedObject: { name: string } }).reason === 'BackOff' && (e as unknown as { involvedObject: { name: string } }).involvedObject.name === pod.name);
    assert.equal((backoff as unknown as { count: number }).count, 2);
    const restarted = await getJson<{ status: { containerStatuses: { restartCount: number }[] } }>(`${sim.apiUrl}/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`);
    assert.equal(restarted.body.status.containerStatuses[0]!.restartCount, 2);
  });

  it('answers 404 with a Status for an unknown object', async () => {
    const { status, body } = await getJson<{ kind: string; code: number }>(`${sim.apiUrl}/api/v1/nodes/nope`);
    assert.equal(status, 404);
    assert.deepEqual([body.kind, body.code], ['Status', 404]);
  });
});

describe('simulated kubelets', () => {
  let sim: Simulator;
  let client: KubeletClient;
  before(async () => {
    sim = await Simulator.start({ nodes: 3, podsPerNode: 4, containersPerPod: 2, seed: 11, bearerToken: 'sekret', slowMs: 3000, oversizedBytes: 2 * 1024 * 1024 });
    client = new KubeletClient({ caPem: sim.caPem!, bearerToken: 'sekret', timeoutMs: 1500, maxResponseBytes: 1024 * 1024 });
  });
  after(async () => {
    await client.close();
    await sim.stop();
  });

  it('serve summaries over HTTPS that verify against the generated CA and parse', async () => {
    const node = sim.cluster.nodes[0]!;
    const fetched = await client.fetchSummary(node.name, sim.kubeletUrl(node.name));
    const batch = parseSummary(fetched.body, { nodeName: node.name });
    assert.equal(batch.metricSets.filter((s) => s.type === 'pod').length, 4);
    assert.equal(batch.metricSets.filter((s) => s.type === 'pod_container').length, 8);
    assert.equal(batch.metricSets.filter((s) => s.type === 'sys_container').length, 3);
    // node CPU counters start from days of uptime and pass 2^53 on big nodes: exact either way
    const cpu = setByKey(batch.metricSets, `node:${node.name}`).values['cpu/usage'];
    assert.ok(typeof cpu === 'bigint' ? cpu > 0n : cpu! > 0);
  });

  it('refuse a client that does not trust the CA, and one without the token', async () => {
    const node = sim.cluster.nodes[0]!;
    const untrusting = new KubeletClient({ bearerToken: 'sekret', timeoutMs: 1500, maxResponseBytes: 1 << 20 });
    await assert.rejects(untrusting.fetchSummary(node.name, sim.kubeletUrl(node.name)), (e: unknown) => e instanceof ScrapeError && e.reason === 'tls');
    await untrusting.close();
    const tokenless = new KubeletClient({ caPem: sim.caPem!, timeoutMs: 1500, maxResponseBytes: 1 << 20 });
    await assert.rejects(tokenless.fetchSummary(node.name, sim.kubeletUrl(node.name)), (e: unknown) => e instanceof ScrapeError && e.reason === 'unauthorized');
    await tokenless.close();
  });

  it('see one connection from a scraper, kept across scrapes and shared by overlapping ones', async () => {
    const node = sim.cluster.nodes[2]!;
    const fresh = new KubeletClient({ caPem: sim.caPem!, bearerToken: 'sekret', timeoutMs: 1500, maxResponseBytes: 1024 * 1024 });
    try {
      const acceptedBefore = (await sim.stats()).connectionsAccepted!;
      await Promise.all([1, 2, 3].map(() => fresh.fetchSummary(node.name, sim.kubeletUrl(node.name))));
      await fresh.fetchSummary(node.name, sim.kubeletUrl(node.name));
      assert.equal((await sim.stats()).connectionsAccepted! - acceptedBefore, 1);
    } finally {
      await fresh.close();
    }
  });

  it('advance counters so that rates between two scrapes equal the ground truth', async () => {
    const node = sim.cluster.nodes[1]!;
    const first = await client.fetchSummary(node.name, sim.kubeletUrl(node.name));
    await sleep(2100);
    const second = await client.fetchSummary(node.name, sim.kubeletUrl(node.name));
    const before = parseSummary(first.body, { nodeName: node.name });
    const afterBatch = parseSummary(second.body, { nodeName: node.name });
    const truth = sim.truth(Date.now(), node.name);
    const previous = new Map(before.metricSets.map((s) => [s.key, s]));
    for (const set of afterBatch.metricSets) applyRates(previous.get(set.key)!, set);
    const nodeSet = setByKey(afterBatch.metricSets, `node:${node.name}`);
    assert.equal(nodeSet.values['cpu/usage_rate'], truth.nodes[0]!.cpuMilliCores);
    assert.equal(nodeSet.values['network/rx_rate'], truth.nodes[0]!.rxBytesPerSecond);
    for (const pod of truth.pods) {
      const podSet = setByKey(afterBatch.metricSets, `namespace:${pod.namespace}/pod:${pod.name}`);
      assert.equal(podSet.values['cpu/usage_rate'], pod.cpuMilliCores);
      assert.equal(podSet.values['network/rx_rate'], pod.rxBytesPerSecond);
      assert.equal(podSet.values['network/tx_rate'], pod.txBytesPerSecond);
      for (const container of pod.containers) {
        const containerSet = setByKey(afterBatch.metricSets, `namespace:${pod.namespace}/pod:${pod.name}/container:${container.name}`);
        assert.equal(containerSet.values['cpu/usage_rate'], container.cpuMilliCores);
        assert.equal(containerSet.values['memory/working_set'], sim.truth(containerSet.scrapeTimeMs, node.name).pods.find((p) => p.uid === pod.uid)!.containers.find((c) => c.name === container.name)!.workingSetBytes);
      }
    }
  });

  it('restart a container: the counter resets with a new start time and no rate is given', async () => {
    const node = sim.cluster.nodes[2]!;
    const pod = [...node.pods.values()][0]!;
    const first = parseSummary((await client.fetchSummary(node.name, sim.kubeletUrl(node.name))).body, { nodeName: node.name });
    await sleep(1100);
    sim.cluster.restartContainer(pod.namespace, pod.name, pod.containers[0]!.name);
    await sleep(1100);
    const second = parseSummary((await client.fetchSummary(node.name, sim.kubeletUrl(node.name))).body, { nodeName: node.name });
    const key = `namespace:${pod.namespace}/pod:${pod.name}/container:${pod.containers[0]!.name}`;
    const before = setByKey(first.metricSets, key);
    const now = setByKey(second.metricSets, key);
    assert.ok(now.createTimeMs! > before.createTimeMs!);
    assert.ok((now.values['cpu/usage'] as number) < (before.values['cpu/usage'] as number));
    const rates = computeRates(before, now);
    assert.equal(rates.values['cpu/usage_rate'], undefined);
    assert.ok(rates.skipped.some((s) => s.metric === 'cpu/usage_rate' && s.reason === 'restart'));
    // the pod's own counter does not reset
    const podKey = `namespace:${pod.namespace}/pod:${pod.name}`;
    assert.ok(computeRates(setByKey(first.metricSets, podKey), setByKey(second.metricSets, podKey)).values['cpu/usage_rate']! > 0);
  });

  it('fail on demand: 500, 401, malformed, truncated, oversized, hang, refuse, slow', async () => {
    const node = sim.cluster.nodes[0]!;
    const url = sim.kubeletUrl(node.name);
    const expectReason = async (fault: Parameters<Simulator['setFault']>[1], reason: string) => {
      await sim.setFault(node.name, fault);
      await assert.rejects(client.fetchSummary(node.name, url), (e: unknown) => {
        assert.ok(e instanceof ScrapeError, String(e));
        assert.equal(e.reason, reason, `${fault}: ${e.message}`);
        return true;
      });
    };
    await expectReason('error500', 'http_error');
    await expectReason('unauthorized', 'unauthorized');
    await expectReason('oversized', 'too_large');
    await expectReason('hang', 'timeout');
    await expectReason('slow', 'timeout');
    // A kept-alive socket dies with the listener; the next connection attempt is refused.
    await sim.setFault(node.name, 'refuse');
    await client.fetchSummary(node.name, url).catch(() => undefined);
    await expectReason('refuse', 'refused');
    await sim.setFault(node.name, 'truncated');
    await assert.rejects(client.fetchSummary(node.name, url), (e: unknown) => e instanceof ScrapeError && (e.reason === 'truncated' || e.reason === 'network'));
    await sim.setFault(node.name, 'malformed');
    const malformed = await client.fetchSummary(node.name, url);
    assert.throws(() => parseSummary(malformed.body, { nodeName: node.name }), (e: unknown) => e instanceof SummaryParseError && e.message.includes(node.name));
    await sim.setFault(node.name, undefined);
    const healthy = await client.fetchSummary(node.name, url);
    assert.ok(parseSummary(healthy.body, { nodeName: node.name }).metricSets.length > 0);
    // other nodes were never affected
    const other = sim.cluster.nodes[1]!;
    assert.ok((await client.fetchSummary(other.name, sim.kubeletUrl(other.name))).body.length > 0);
  });
});

describe('simulator modes', () => {
  it('replays recorded summaries verbatim and lists their pods in the API', async () => {
    const sim = await Simulator.start({ replayDir: SUMMARY_FIXTURES, https: false });
    try {
      assert.equal(sim.cluster.nodes.length, 5);
      const nodeName = 'datagen-1-35';
      const client = new KubeletClient({ timeoutMs: 2000, maxResponseBytes: 1 << 22 });
      const body = (await client.fetchSummary(nodeName, sim.kubeletUrl(nodeName))).body.toString();
      await client.close();
      const { readFileSync } = await import('node:fs');
      assert.equal(body, readFileSync(`${SUMMARY_FIXTURES}/nri_k8s_v1.35_minikube_containerd_stats_summary.json`, 'utf8'));
      // the Node object points at the kubelet that serves the recording
      const { body: nodeObject } = await getJson<{ status: { daemonEndpoints: { kubeletEndpoint: { Port: number } } } }>(`${sim.apiUrl}/api/v1/nodes/${nodeName}`);
      assert.equal(nodeObject.status.daemonEndpoints.kubeletEndpoint.Port, sim.node(nodeName).port);
      assert.ok(sim.node(nodeName).port > 0);
      const nodeEvents = await watchEvents(`${sim.apiUrl}/api/v1/nodes?watch=1`, 5);
      for (const event of nodeEvents) {
        const name = (event.object.metadata as { name: string }).name;
        assert.equal((event.object.status as { daemonEndpoints: { kubeletEndpoint: { Port: number } } }).daemonEndpoints.kubeletEndpoint.Port, sim.node(name).port);
      }
      const { body: pods } = await getJson<List>(`${sim.apiUrl}/api/v1/pods?fieldSelector=spec.nodeName%3D${nodeName}`);
      assert.equal(pods.items.length, 17);
      assert.ok(pods.items.some((p) => p.metadata.name === 'etcd-datagen-1-35'));
    } finally {
      await sim.stop();
    }
  });

  it('puts every kubelet on one port at its own 127.10.x.y address, with a certificate for that address only', async () => {
    const port = 20000 + (process.pid % 20000);
    const sim = await Simulator.start({ nodes: 3, podsPerNode: 1, kubeletPort: port, kubeletProcesses: 1 });
    try {
      const addresses = sim.cluster.nodes.map((n) => `${n.address}:${n.port}`);
      assert.deepEqual(addresses, [`127.10.0.1:${port}`, `127.10.0.2:${port}`, `127.10.0.3:${port}`]);
      const client = new KubeletClient({ caPem: sim.caPem!, timeoutMs: 2000, maxResponseBytes: 1 << 20 });
      for (const node of sim.cluster.nodes) {
        const batch = parseSummary((await client.fetchSummary(node.name, sim.kubeletUrl(node.name))).body);
        assert.equal(batch.nodeName, node.name, 'each address answers for its own node');
        // As a real kubelet's: its own address and name, not the cluster's (a certificate naming
        // every node grew with the cluster and cost each scraper connection hundreds of KiB).
        const certificate = await peerCertificate(node.address, port, sim.caPem!);
        assert.equal(certificate.subjectaltname, `IP Address:${node.address}, DNS:${node.name}`);
      }
      await client.close();
    } finally {
      await sim.stop();
    }
  });
});

describe('simulator with kubelet processes', () => {
  it('serves from child processes the same cluster the API lists, forwards faults and sums their counters', async () => {
    const sim = await Simulator.start({ nodes: 5, podsPerNode: 3, seed: 5, kubeletProcesses: 2, bearerToken: 'sekret' });
    const client = new KubeletClient({ caPem: sim.caPem!, bearerToken: 'sekret', timeoutMs: 2000, maxResponseBytes: 1 << 20 });
    try {
      const pods = (await getJson<List>(`${sim.apiUrl}/api/v1/pods`)).body.items;
      for (const node of sim.cluster.nodes) {
        const batch = parseSummary((await client.fetchSummary(node.name, sim.kubeletUrl(node.name))).body, { nodeName: node.name });
        assert.equal(batch.nodeName, node.name);
        // The child built its model itself: its pods and their uids must be the ones the API lists on that node.
        const served = batch.metricSets.filter((s) => s.type === 'pod').map((s) => `${s.labels.namespace_name}/${s.labels.pod_name}/${s.labels.pod_id}`).sort();
        const listed = pods
          .filter((p) => p.spec?.nodeName === node.name && p.status?.phase === 'Running')
          .map((p) => `${p.metadata.namespace}/${p.metadata.name}/${(p.metadata as { uid?: string }).uid}`)
          .sort();
        assert.deepEqual(served, listed, `pods of ${node.name}`);
      }
      const faulty = sim.cluster.nodes[3]!;
      await post(`${sim.apiUrl}/simulator/faults`, { nodes: [faulty.name], fault: 'error500' });
      await assert.rejects(client.fetchSummary(faulty.name, sim.kubeletUrl(faulty.name)), (error: unknown) => error instanceof ScrapeError && /500/.test(error.message));
      const stats = (await getJson<Record<string, number>>(`${sim.apiUrl}/simulator/stats`)).body;
      assert.equal(stats.summariesServed, 5);
      assert.equal(stats.faultsServed, 1);
      const refused = await request(`${sim.apiUrl}/simulator/pods`, { method: 'POST', body: JSON.stringify({ node: faulty.name }) });
      assert.equal(refused.statusCode, 409, 'adding a pod would change only the API side');
      await refused.body.dump();
    } finally {
      await client.close();
      await sim.stop();
    }
  });

  it('refuses churn with kubelet processes, naming the option', async () => {
    await assert.rejects(Simulator.start({ nodes: 2, kubeletProcesses: 2, churnPerMinute: 1 }), /--churn-per-minute needs the kubelets in the simulator's own process/);
  });
});

/** The certificate a TLS server at `host:port` presents, verified against `caPem`. */
function peerCertificate(host: string, port: number, caPem: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ca: caPem }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.on('error', reject);
  });
}
