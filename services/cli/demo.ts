/**
 * `podometer demo`: the simulator, a private Redis and `podometer all` in one process. Each
 * window goes through the real queues (scrape, finalize, export) into the short-term
 * store; the demo reads the store like the API would and prints nodes and the top pods by CPU
 * next to the simulator's ground truth.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, reader, usage, type OptionSpec } from '../common/config.js';
import { metricSetKey } from '../common/metrics.js';
import { formatBytes } from '../common/metric-export.js';
import { toApproxNumber, type MetricSet } from '../common/metric-set.js';
import { closeRuntime, openRuntime, stopSignal } from '../common/runtime.js';
import { StoreReader } from '../api/store.js';
import { LOG_LEVELS } from '../common/logger.js';
import { LocalRedis } from '../../simulator/redis-server.js';
import { Simulator } from '../../simulator/simulator.js';
import { ALL_ROLE_OPTIONS, startAll } from './all.js';

export const DEMO_OPTIONS: readonly OptionSpec[] = [
  { name: 'nodes', type: 'integer', min: 1, max: 2000, default: 5, description: 'Simulated nodes.', env: false },
  { name: 'pods-per-node', type: 'integer', min: 1, max: 110, default: 10, description: 'Pods per node.', env: false },
  { name: 'metric-resolution', type: 'duration', min: 5000, default: 10_000, description: 'Window length.', env: false },
  { name: 'windows', type: 'integer', min: 0, default: 0, description: 'Stop after printing this many windows (0: run until Ctrl-C).', env: false },
  { name: 'redis-url', type: 'string', default: '', valueName: 'URL', description: 'Use this Redis instead of starting a private one in .tmp/demo/redis.', env: false },
  { name: 'api-port', type: 'integer', default: 8082, min: 0, max: 65535, description: 'Port of the API on 127.0.0.1 (0: any free port).', env: false },
  { name: 'log-level', type: 'string', default: 'warn', choices: LOG_LEVELS, valueName: 'LEVEL', description: 'Log level of the pipeline.', env: false },
];

export const DEMO_HELP = usage('podometer demo [--nodes N] [--pods-per-node M] [--metric-resolution 10s]', 'Starts the cluster simulator, a private Redis and the whole pipeline, and prints each window.', DEMO_OPTIONS);

const cell = (text: string, width: number, right = true): string => (right ? text.padStart(width) : text.padEnd(width));

export async function runDemo(argv: readonly string[]): Promise<number> {
  const config = loadConfig(DEMO_OPTIONS, argv);
  if (config.help) {
    console.log(DEMO_HELP);
    return 0;
  }
  const get = reader(config.values);
  const stateDir = '.tmp/demo';
  const simulator = await Simulator.start({ nodes: get.number('nodes'), podsPerNode: get.number('pods-per-node'), restartsPerMinute: 1, churnPerMinute: 1, stateDir });
  await rm(join(stateDir, 'redis'), { recursive: true, force: true });
  const localRedis = get.string('redis-url') ? undefined : await LocalRedis.start(join(stateDir, 'redis'));
  const redisUrl = get.string('redis-url') || localRedis!.url;
  const pipelineArgs = [
    `--source=kubernetes.summary_api:${simulator.apiUrl}?inClusterConfig=false&kubeletHttps=true`,
    '--kubelet-use-node-status-port', '--kubelet-preferred-address-types=InternalIP',
    `--kubelet-ca-file=${join(stateDir, 'kubelet-ca.crt')}`,
    `--metric-resolution=${get.number('metric-resolution')}ms`,
    `--redis-url=${redisUrl}`, '--redis-prefix=podometer-demo', `--api-address=127.0.0.1:${get.number('api-port')}`, `--log-level=${get.string('log-level')}`,
  ];
  const pipeline = reader(loadConfig(ALL_ROLE_OPTIONS, pipelineArgs, {}).values);
  const runtime = openRuntime(pipeline, 'demo');
  const services = await startAll(runtime, pipeline);
  const apiPort = ((services[0] as { server?: import('node:http').Server }).server?.address() as { port: number } | undefined)?.port;
  console.log(`simulator: ${simulator.cluster.nodes.length} nodes, ${simulator.cluster.pods.size} pods (API server ${simulator.apiUrl}, kubelets over verified HTTPS)`);
  console.log(`pipeline: podometer all ${pipelineArgs.join(' ')}`);
  console.log(`windows of ${get.number('metric-resolution') / 1000} s; the first table shows after two windows (rates need two samples)`);
  if (apiPort) console.log(`API: curl http://127.0.0.1:${apiPort}/api/v1/model/nodes/   kubectl --server=http://127.0.0.1:${apiPort} top node`);
  const store = new StoreReader(runtime.redis, runtime.keys);
  let stop = false;
  void stopSignal().then(() => (stop = true));
  let printed = 0;
  let lastWindow = -1;
  while (!stop && (get.number('windows') === 0 || printed < get.number('windows'))) {
    await new Promise((r) => setTimeout(r, 500));
    const latest = await store.latestWindow();
    if (latest === undefined || latest === lastWindow) continue;
    lastWindow = latest;
    const sets = await store.sets(latest);
    const summary = await store.summary(latest);
    const hasRates = sets.some((s) => s.type === 'node' && s.values['cpu/usage_rate'] !== undefined);
    console.log(`\nwindow ${new Date(latest).toISOString()}: ${summary?.okNodes}/${summary?.expectedNodes} nodes, ${sets.length} metric sets, finalized ${summary?.finalizedBy}` +
      ` ${summary ? summary.finalizedAtMs - summary.windowEndMs : '?'} ms after the window ended`);
    if (!hasRates) continue;
    printTables(sets, simulator);
    printed++;
  }
  await closeRuntime(runtime, services);
  await localRedis?.stop();
  await simulator.stop();
  return 0;
}

function printTables(sets: MetricSet[], simulator: Simulator): void {
  const truth = simulator.truth();
  const trueNode = new Map(truth.nodes.map((n) => [n.name, n]));
  const truePod = new Map(truth.pods.map((p) => [metricSetKey.pod(p.namespace, p.name), p]));
  const value = (set: MetricSet, name: string): number | undefined => (set.values[name] === undefined ? undefined : toApproxNumber(set.values[name]!));
  const show = (n: number | undefined, unit: (x: number) => string): string => (n === undefined ? '-' : unit(n));
  const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const lines = [`${cell('NODE', 12, false)}${cell('CPU', 10)}${cell('TRUE CPU', 10)}${cell('CPU%', 8)}${cell('MEMORY', 12)}${cell('RX/s', 12)}${cell('TX/s', 12)}`];
  for (const set of sets.filter((s) => s.type === 'node').sort((a, b) => (a.key < b.key ? -1 : 1))) {
    const name = set.labels.nodename!;
    lines.push(
      `${cell(name, 12, false)}${cell(show(value(set, 'cpu/usage_rate'), (x) => `${x}m`), 10)}${cell(`${trueNode.get(name)?.cpuMilliCores ?? '?'}m`, 10)}${cell(show(value(set, 'cpu/node_utilization'), percent), 8)}` +
        `${cell(show(value(set, 'memory/working_set'), formatBytes), 12)}${cell(show(value(set, 'network/rx_rate'), formatBytes), 12)}${cell(show(value(set, 'network/tx_rate'), formatBytes), 12)}`,
    );
  }
  const pods = sets.filter((s) => s.type === 'pod').sort((a, b) => (value(b, 'cpu/usage_rate') ?? 0) - (value(a, 'cpu/usage_rate') ?? 0)).slice(0, 5);
  lines.push('', `${cell('TOP PODS BY CPU', 44, false)}${cell('CPU', 10)}${cell('TRUE CPU', 10)}${cell('REQUEST', 10)}${cell('MEMORY', 12)}${cell('RX/s', 12)}`);
  for (const set of pods) {
    lines.push(
      `${cell(`${set.labels.namespace_name}/${set.labels.pod_name}`, 44, false)}${cell(show(value(set, 'cpu/usage_rate'), (x) => `${x}m`), 10)}${cell(`${truePod.get(set.key)?.cpuMilliCores ?? '?'}m`, 10)}` +
        `${cell(show(value(set, 'cpu/request'), (x) => `${x}m`), 10)}${cell(show(value(set, 'memory/working_set'), formatBytes), 12)}${cell(show(value(set, 'network/rx_rate'), formatBytes), 12)}`,
    );
  }
  const namespaces = sets.filter((s) => s.type === 'ns');
  const cluster = sets.find((s) => s.type === 'cluster');
  lines.push('', `namespaces: ${namespaces.map((n) => `${n.labels.namespace_name} ${value(n, 'cpu/usage_rate') ?? '-'}m`).join(', ')}`);
  if (cluster) lines.push(`cluster: ${value(cluster, 'cpu/usage_rate') ?? '-'}m of ${value(cluster, 'cpu/node_allocatable') ?? '-'}m allocatable, ${formatBytes(value(cluster, 'memory/working_set') ?? 0)} working set`);
  console.log(lines.join('\n'));
}
