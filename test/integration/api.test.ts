import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { generateServingTls } from '../../simulator/tls.js';
import { startApi } from '../../services/api/main.js';
import { ConfigError } from '../../services/common/config.js';
import type { WindowSummary } from '../../services/common/jobs.js';
import { metricSetKey } from '../../services/common/metrics.js';
import { toApproxNumber, type MetricSet } from '../../services/common/metric-set.js';
import { toRfc3339 } from '../../services/common/metric-export.js';
import { openRuntime } from '../../services/common/runtime.js';
import { PipelineHarness } from '../pipeline-harness.js';
import { scratchDir } from '../helpers.js';

const run = promisify(execFile);
const NODES = 3;

async function get<T>(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const response = await request(url, { headers });
  const text = await response.body.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // plain text (health endpoints)
  }
  return { status: response.statusCode, body: body as T };
}

interface MetricResult {
  metrics: { timestamp: string; value: number }[];
  latestTimestamp: string;
}

describe('API (Model API, metrics.k8s.io, kubectl top) on a store filled by the pipeline', () => {
  let harness: PipelineHarness;
  let window: WindowSummary;
  let sets: Map<string, MetricSet>;
  let api = '';
  before(async () => {
    harness = await PipelineHarness.start({ nodes: NODES, podsPerNode: 3, containersPerPod: 2, seed: 21 });
    await harness.startAll();
    api = harness.apiUrl;
    const first = await harness.waitForWindow((s) => s.okNodes === NODES);
    window = await harness.nextWindow(first.windowStartMs, (s) => s.okNodes === NODES);
    // Stop the pipeline so the store holds still while the API is read.
    for (const service of harness.services.slice(1)) await service.stop();
    harness.services.splice(1);
    sets = new Map((await harness.store.sets(window.windowStartMs)).map((s) => [s.key, s]));
  });
  after(async () => harness?.stop());

  const value = (key: string, metric: string): number => toApproxNumber(sets.get(key)!.values[metric]!);
  const latestPoint = async (path: string): Promise<{ timestamp: string; value: number }> => {
    const { status, body } = await get<MetricResult>(`${api}${path}`);
    assert.equal(status, 200, path);
    return body.metrics[body.metrics.length - 1]!;
  };

  it('Model API: lists and latest values equal the store at every level', async () => {
    const node = harness.simulator.cluster.nodes[0]!.name;
    const pod = [...harness.simulator.cluster.nodes[0]!.pods.values()][0]!;
    const container = pod.containers[1]!.name;
    assert.deepEqual((await get(`${api}/api/v1/model/nodes/`)).body, harness.simulator.cluster.nodes.map((n) => n.name).sort());
    assert.ok(((await get<string[]>(`${api}/api/v1/model/metrics/`)).body).includes('cpu/usage_rate'));
    const point = await latestPoint('/api/v1/model/metrics/cpu/usage_rate');
    assert.deepEqual(point, { timestamp: toRfc3339(window.windowEndMs), value: value('cluster', 'cpu/usage_rate') });
    assert.equal((await latestPoint(`/api/v1/model/nodes/${node}/metrics/memory/working_set`)).value, value(metricSetKey.node(node), 'memory/working_set'));
    assert.ok(((await get<string[]>(`${api}/api/v1/model/nodes/${node}/freecontainers/`)).body).includes('kubelet'));
    assert.equal((await latestPoint(`/api/v1/model/nodes/${node}/freecontainers/kubelet/metrics/cpu/usage_rate`)).value, value(metricSetKey.nodeContainer(node, 'kubelet'), 'cpu/usage_rate'));
    assert.ok(((await get<string[]>(`${api}/api/v1/model/namespaces/`)).body).includes(pod.namespace));
    assert.equal((await latestPoint(`/api/v1/model/namespaces/${pod.namespace}/metrics/cpu/usage_rate`)).value, value(metricSetKey.namespace(pod.namespace), 'cpu/usage_rate'));
    assert.ok(((await get<string[]>(`${api}/api/v1/model/namespaces/${pod.namespace}/pods/`)).body).includes(pod.name));
    assert.equal((await latestPoint(`/api/v1/model/namespaces/${pod.namespace}/pods/${pod.name}/metrics/cpu/usage_rate`)).value, value(metricSetKey.pod(pod.namespace, pod.name), 'cpu/usage_rate'));
    assert.deepEqual((await get(`${api}/api/v1/model/namespaces/${pod.namespace}/pods/${pod.name}/containers/`)).body, pod.containers.map((c) => c.name).sort());
    assert.equal((await latestPoint(`/api/v1/model/namespaces/${pod.namespace}/pods/${pod.name}/containers/${container}/metrics/memory/usage`)).value, value(metricSetKey.podContainer(pod.namespace, pod.name, container), 'memory/usage'));
    // The deprecated alias, the batch form, the key list, metric-export and its schema.
    assert.equal((await latestPoint(`/api/v1/model/namespaces/${pod.namespace}/pods/${pod.name}/metrics/cpu-usage`)).value, value(metricSetKey.pod(pod.namespace, pod.name), 'cpu/usage_rate'));
    const others = [...harness.simulator.cluster.pods.values()].filter((p) => p.namespace === pod.namespace).map((p) => p.name);
    const batch = await get<{ items: MetricResult[] }>(`${api}/api/v1/model/namespaces/${pod.namespace}/pod-list/${others.join(',')}/metrics/memory/working_set`);
    assert.equal(batch.body.items.length, others.length);
    others.forEach((name, i) => assert.equal(batch.body.items[i]!.metrics.at(-1)!.value, value(metricSetKey.pod(pod.namespace, name), 'memory/working_set')));
    assert.deepEqual((await get<string[]>(`${api}/api/v1/model/debug/allkeys`)).body, [...sets.keys()].sort());
    const exported = (await get<{ labels: Record<string, string> }[]>(`${api}/api/v1/metric-export`)).body;
    assert.equal(exported.length, sets.size);
    assert.ok(((await get<{ metrics: { name: string }[] }>(`${api}/api/v1/metric-export-schema`)).body).metrics.some((m) => m.name === 'network/rx_rate'));
  });

  it('Model API: start/end select by time; unknown entity or metric is 404 with a JSON error, a bad time is 400', async () => {
    const after = await get<MetricResult>(`${api}/api/v1/model/metrics/cpu/usage_rate?start=${toRfc3339(window.windowEndMs + 1000)}`);
    assert.deepEqual(after.body.metrics, []);
    const range = await get<MetricResult>(`${api}/api/v1/model/metrics/cpu/usage_rate?start=${toRfc3339(window.windowEndMs - 1000)}&end=${toRfc3339(window.windowEndMs)}`);
    assert.equal(range.body.metrics.length, 1);
    const missingNode = await get<{ error: string }>(`${api}/api/v1/model/nodes/no-such-node/metrics/cpu/usage_rate`);
    assert.equal(missingNode.status, 404);
    assert.match(missingNode.body.error, /node no-such-node not found/);
    assert.equal((await get(`${api}/api/v1/model/metrics/cpu/bogus`)).status, 404);
    const badTime = await get<{ error: string }>(`${api}/api/v1/model/metrics/cpu/usage_rate?start=yesterday`);
    assert.equal(badTime.status, 400);
    // A labeled metric: `labels` picks the filesystem.
    const node = harness.simulator.cluster.nodes[0]!.name;
    const rootFs = sets.get(metricSetKey.node(node))!.labeled.find((v) => v.name === 'filesystem/usage' && v.labels.resource_id === '/')!;
    const fs = await get<MetricResult>(`${api}/api/v1/model/nodes/${node}/metrics/filesystem/usage?labels=resource_id:/`);
    assert.equal(fs.body.metrics.at(-1)!.value, toApproxNumber(rootFs.value));
    assert.equal((await get(`${api}/api/v1/model/nodes/${node}/metrics/filesystem/usage`)).status, 400);
  });

  it('metrics.k8s.io: NodeMetrics and PodMetrics with usage from the store, selectors, get and 404', async () => {
    const nodes = await get<{ kind: string; items: { metadata: { name: string }; usage: { cpu: string; memory: string }; window: string }[] }>(`${api}/apis/metrics.k8s.io/v1beta1/nodes`);
    assert.equal(nodes.body.kind, 'NodeMetricsList');
    assert.equal(nodes.body.items.length, NODES);
    for (const item of nodes.body.items) {
      assert.equal(item.usage.cpu, `${value(metricSetKey.node(item.metadata.name), 'cpu/usage_rate') * 1e6}n`);
      const ws = value(metricSetKey.node(item.metadata.name), 'memory/working_set');
      assert.equal(item.usage.memory, ws % 1024 === 0 ? `${ws / 1024}Ki` : String(ws));
      assert.equal(item.window, '5s');
    }
    const pod = [...harness.simulator.cluster.pods.values()][2]!;
    const one = await get<{ kind: string; containers: { name: string; usage: { cpu: string } }[] }>(`${api}/apis/metrics.k8s.io/v1beta1/namespaces/${pod.namespace}/pods/${pod.name}`);
    assert.equal(one.body.kind, 'PodMetrics');
    assert.deepEqual(one.body.containers.map((c) => c.usage.cpu), pod.containers.map((c) => c.name).sort().map((name) => `${value(metricSetKey.podContainer(pod.namespace, pod.name, name), 'cpu/usage_rate') * 1e6}n`));
    const byLabel = await get<{ items: { metadata: { name: string; labels: Record<string, string> } }[] }>(`${api}/apis/metrics.k8s.io/v1beta1/pods?labelSelector=app%3D${pod.app}`);
    const expected = [...harness.simulator.cluster.pods.values()].filter((p) => p.app === pod.app).map((p) => p.name).sort();
    assert.deepEqual(byLabel.body.items.map((i) => i.metadata.name).sort(), expected);
    const byField = await get<{ items: { metadata: { namespace: string } }[] }>(`${api}/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=metadata.namespace%3D${pod.namespace}`);
    assert.ok(byField.body.items.length > 0 && byField.body.items.every((i) => i.metadata.namespace === pod.namespace));
    assert.equal((await get(`${api}/apis/metrics.k8s.io/v1beta1/nodes/no-such-node`)).status, 404);
    assert.equal((await get(`${api}/apis/metrics.k8s.io/v1beta1/pods?labelSelector=a%20in`)).status, 400);
  });

  it('the real kubectl top node and top pod -A print the store\'s figures', async () => {
    // Headers are skipped by hand: Debian's kubectl (1.20) may lack --no-headers on top.
    const table = (stdout: string): string[][] => stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    const top = await run('kubectl', [`--server=${api}`, 'top', 'node'], { env: { ...process.env, KUBECONFIG: '/dev/null' } });
    const rows = table(top.stdout);
    assert.equal(rows.length, NODES);
    for (const [name, cpu, , memory] of rows) {
      assert.equal(cpu, `${value(metricSetKey.node(name!), 'cpu/usage_rate')}m`);
      assert.equal(memory, `${Math.floor(value(metricSetKey.node(name!), 'memory/working_set') / 1024 / 1024)}Mi`);
    }
    const pods = await run('kubectl', [`--server=${api}`, 'top', 'pod', '-A'], { env: { ...process.env, KUBECONFIG: '/dev/null' } });
    const podRows = table(pods.stdout);
    const running = [...sets.values()].filter((s) => s.type === 'pod' && s.values['cpu/usage_rate'] !== undefined);
    assert.equal(podRows.length, running.length, 'every running pod with usage');
    for (const [namespace, name, cpu, memory] of podRows) {
      const containers = [...sets.values()].filter((s) => s.type === 'pod_container' && s.labels.namespace_name === namespace && s.labels.pod_name === name);
      const cpuSum = containers.reduce((sum, s) => sum + toApproxNumber(s.values['cpu/usage_rate']!), 0);
      const memorySum = containers.reduce((sum, s) => sum + toApproxNumber(s.values['memory/working_set']!), 0);
      assert.equal(cpu, `${cpuSum}m`, `${namespace}/${name}`);
      assert.equal(memory, `${Math.floor(memorySum / 1024 / 1024)}Mi`, `${namespace}/${name}`);
    }
  });

  it('kubectl get asks for the Table form and prints Name, CPU, Memory, Window', async () => {
    const out = await run('kubectl', [`--server=${api}`, 'get', 'nodes.metrics.k8s.io'], { env: { ...process.env, KUBECONFIG: '/dev/null' } });
    assert.match(out.stdout, /^NAME\s+CPU\s+MEMORY\s+WINDOW/);
    const rows = out.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    assert.equal(rows.length, NODES);
    for (const [name, cpu, memory, windowText] of rows) {
      assert.equal(cpu, `${value(metricSetKey.node(name!), 'cpu/usage_rate')}m`);
      assert.equal(memory, `${Math.round(value(metricSetKey.node(name!), 'memory/working_set') / 1024 / 1024)}Mi`);
      assert.equal(windowText, '5s');
    }
  });

  it('HTTPS with Heapster\'s --tls_cert/--tls_key; a client certificate from --tls_client_ca in --allowed_users authenticates', async () => {
    const dir = scratchDir('tls');
    const tls = await generateServingTls(['127.0.0.1'], ['localhost'], 'front-proxy-client');
    const other = await generateServingTls(['127.0.0.1'], ['localhost'], 'someone-else');
    for (const [file, text] of [['ca.crt', tls.caPem], ['tls.crt', tls.certPem], ['tls.key', tls.keyPem]] as const) writeFileSync(join(dir, file), text);
    const args = [...harness.args, '--api-address=0.0.0.0:0', `--tls_cert=${join(dir, 'tls.crt')}`, `--tls_key=${join(dir, 'tls.key')}`, `--tls_client_ca=${join(dir, 'ca.crt')}`, '--allowed_users=front-proxy-client'];
    const runtime = openRuntime(PipelineHarness.config(args), 'api-tls');
    harness.runtimes.push(runtime);
    const served = await startApi(runtime, PipelineHarness.config(args));
    harness.services.push(served);
    const url = `https://127.0.0.1:${(served.server.address() as { port: number }).port}/apis/metrics.k8s.io/v1beta1/nodes`;
    const call = async (client?: { certPem: string; keyPem: string }): Promise<number> => {
      const dispatcher = new Agent({ connect: { ca: tls.caPem, ...(client ? { cert: client.certPem, key: client.keyPem } : {}) } });
      const response = await request(url, { dispatcher });
      await response.body.dump();
      await dispatcher.close();
      return response.statusCode;
    };
    assert.equal(await call(tls.client), 200);
    assert.equal(await call(), 401);
    assert.equal(await call(other.client), 401, 'a certificate from another CA is not verified');
  });

  it('health needs no credentials; on a non-loopback address the API needs them, and refuses to start without', async () => {
    assert.equal((await get(`${api}/healthz`)).status, 200);
    assert.equal((await get(`${api}/readyz`)).status, 200);
    // /livez: the newest window's scrapes must have started within 1.5 resolutions.
    const { redis, keys } = harness.runtime;
    const last = JSON.parse((await redis.get(keys.lastWindow))!) as { scrapeAtMs: number; windowStartMs: number; windowEndMs: number };
    await redis.set(keys.lastWindow, JSON.stringify({ ...last, scrapeAtMs: Date.now() - 60_000 }));
    const stale = await get<string>(`${api}/livez`);
    assert.equal(stale.status, 503);
    assert.match(stale.body, /last window started 60 s ago/);
    await redis.set(keys.lastWindow, JSON.stringify({ ...last, scrapeAtMs: Date.now() }));
    assert.equal((await get(`${api}/livez`)).status, 200);
    const dir = scratchDir('api');
    const base = [...harness.args, '--api-address=0.0.0.0:0'];
    const runtime = openRuntime(PipelineHarness.config(base), 'api-auth');
    harness.runtimes.push(runtime);
    await assert.rejects(startApi(runtime, PipelineHarness.config(base)), (error: unknown) => error instanceof ConfigError && /not loopback/.test(error.message));
    writeFileSync(join(dir, 'tokens'), 'sekret-token\n');
    const secured = await startApi(runtime, PipelineHarness.config([...base, `--api-token-file=${join(dir, 'tokens')}`]));
    harness.services.push(secured);
    const url = `http://127.0.0.1:${(secured.server.address() as { port: number }).port}`;
    assert.equal((await get(`${url}/apis/metrics.k8s.io/v1beta1/nodes`)).status, 401);
    assert.equal((await get(`${url}/apis/metrics.k8s.io/v1beta1/nodes`, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await get(`${url}/apis/metrics.k8s.io/v1beta1/nodes`, { authorization: 'Bearer sekret-token' })).status, 200);
    assert.equal((await get(`${url}/healthz`)).status, 200);
  });
});
