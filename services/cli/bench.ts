/**
 * `podometer bench`: the pipeline's cost, measured as it runs in production: a private Redis, the
 * simulator and each role as its own process. After one warm-up window it runs `--windows`
 * windows and prints, per role and for Redis (the simulator's own CPU apart):
 *   CPU seconds per node-scrape (from /proc/<pid>/stat), peak RSS (VmHWM), window latency
 *   (window end to finalized, p50/p99/max), windows finalized late or incomplete.
 * It also measures the limit: the same summaries parsed, processed and encoded in one tight loop
 * in this process with no queues, and the pipeline's ratio to it.
 * Linux only (/proc). The scale curve (--curve) is not built yet.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadRoleConfig, usage, type OptionSpec } from '../common/config.js';
import type { WindowSummary } from '../common/jobs.js';
import { redisKeys } from '../common/keys.js';
import { freePort, LocalRedis } from '../../simulator/redis-server.js';

export const BENCH_OPTIONS: readonly OptionSpec[] = [
  { name: 'nodes', type: 'integer', min: 1, default: 1000, description: 'Simulated nodes.', env: false },
  { name: 'pods-per-node', type: 'integer', min: 0, default: 30, description: 'Pods per node.', env: false },
  { name: 'containers-per-pod', type: 'integer', min: 1, default: 1, description: 'Containers per pod.', env: false },
  { name: 'windows', type: 'integer', min: 1, default: 3, description: 'Windows measured (after one warm-up window).', env: false },
  { name: 'resolution', type: 'duration', min: 5000, default: 30_000, description: 'Window length.', env: false },
  { name: 'scrapers', type: 'integer', min: 1, default: 1, description: 'Scraper processes.', env: false },
  { name: 'processors', type: 'integer', min: 1, default: 1, description: 'Processor processes.', env: false },
  { name: 'sink', type: 'strings', default: [], valueName: 'URI', description: 'Sinks (as --sink of the roles).', env: false },
  { name: 'json', type: 'string', default: '', valueName: 'FILE', description: 'Also write the figures as JSON here.', env: false },
];

export const BENCH_HELP = usage('podometer bench [--nodes N] [--pods-per-node M] [--windows W] [--resolution 30s]', 'Runs the simulator and every role as its own process and measures the pipeline.', BENCH_OPTIONS);

const CLI = join(import.meta.dirname, '..', '..', '..', 'bin', 'podometer.js');
const TICKS_PER_SECOND = 100;

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function peakRssBytes(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * The limit: the work a window needs, with no queues and no Redis. Fetches every node's summary
 * twice (two samples, for rates), then in one tight loop parses, processes (rates, enrichment,
 * aggregation) and encodes each node as the pipeline would for the store. CPU seconds per node.
 */
async function measureLimit(apiUrl: string, caFile: string, nodes: number): Promise<number> {
  const { KubeletClient } = await import('../scraper/kubelet-client.js');
  const { parseSummary } = await import('../common/summary-parser.js');
  const { processNode } = await import('../processor/process-node.js');
  const { DEFAULT_ENRICH_OPTIONS } = await import('../processor/enrich.js');
  const { encodeLongTermValues, encodeMetricSet } = await import('../common/batch-codec.js');
  const targets = (await (await fetch(`${apiUrl}/simulator/nodes`)).json()) as { name: string; url: string }[];
  const client = new KubeletClient({ caPem: readFileSync(caFile, 'utf8'), timeoutMs: 30_000, maxResponseBytes: 64 * 1024 * 1024 });
  const fetchAll = async (): Promise<Buffer[]> => {
    const bodies: Buffer[] = [];
    for (let i = 0; i < targets.length; i += 64) bodies.push(...(await Promise.all(targets.slice(i, i + 64).map(async (t) => (await client.fetchSummary(t.name, t.url)).body))));
    return bodies;
  };
  const first = await fetchAll();
  await new Promise((r) => setTimeout(r, 1100));
  const second = await fetchAll();
  await client.close();
  const started = process.cpuUsage();
  for (let i = 0; i < targets.length; i++) {
    const context = { nodeName: targets[i]!.name, node: undefined, pods: [], namespaces: new Map() };
    const previous = processNode(parseSummary(first[i]!, { nodeName: targets[i]!.name }).metricSets, [], context, DEFAULT_ENRICH_OPTIONS).rateSample;
    const result = processNode(parseSummary(second[i]!, { nodeName: targets[i]!.name }).metricSets, previous, context, DEFAULT_ENRICH_OPTIONS);
    // What the store needs: each set's JSON and its long-term values.
    for (const set of result.sets) {
      encodeMetricSet(set);
      encodeLongTermValues(set);
    }
  }
  const used = process.cpuUsage(started);
  // Each node was parsed and processed twice (the first sample has no rates): count one window's worth.
  return (used.user + used.system) / 1e6 / 2 / nodes;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

export async function runBench(argv: readonly string[]): Promise<number> {
  const config = loadRoleConfig(BENCH_OPTIONS, argv, BENCH_HELP);
  if (!config) return 0;
  const { get } = config;
  const nodes = get.number('nodes');
  const windows = get.number('windows');
  const resolutionMs = get.number('resolution');
  const dir = mkdtempSync(join(tmpdir(), 'podometer-bench-'));
  const children: { role: string; process: ChildProcess }[] = [];
  const redis = await LocalRedis.start(join(dir, 'redis'));
  const apiPort = await freePort();
  const spawnRole = (role: string, args: string[]): ChildProcess => {
    const child = spawn(process.execPath, [CLI, role, ...args], { stdio: ['ignore', 'ignore', 'ignore'] });
    children.push({ role, process: child });
    return child;
  };
  const client = new Redis(redis.url);
  try {
    spawnRole('simulate', ['--nodes', String(nodes), '--pods-per-node', String(get.number('pods-per-node')), '--containers-per-pod', String(get.number('containers-per-pod')), '--api-port', String(apiPort), '--state-dir', join(dir, 'sim')]);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    for (let ready = false; !ready; ) {
      ready = await fetch(`${apiUrl}/simulator/stats`).then((r) => r.ok, () => false);
      if (!ready) await new Promise((r) => setTimeout(r, 500));
    }
    const common = [`--redis-url=${redis.url}`, '--log-level=warn', '--metrics-address=127.0.0.1:0', ...get.list('sink').map((s) => `--sink=${s}`)];
    const source = [`--source=kubernetes.summary_api:${apiUrl}?inClusterConfig=false&kubeletHttps=true`];
    spawnRole('exporter', common);
    for (let i = 0; i < get.number('processors'); i++) spawnRole('processor', common);
    for (let i = 0; i < get.number('scrapers'); i++) spawnRole('scraper', [...common.filter((a) => !a.startsWith('--sink')), ...source, `--kubelet-ca-file=${join(dir, 'sim', 'kubelet-ca.crt')}`]);
    spawnRole('scheduler', [...common.filter((a) => !a.startsWith('--sink')), ...source, '--kubelet-use-node-status-port', '--kubelet-preferred-address-types=InternalIP', `--metric-resolution=${resolutionMs}ms`]);
    const keys = redisKeys();
    const summaries = async (): Promise<WindowSummary[]> => Object.values(await client.hgetall(keys.storeSummaries)).map((t) => JSON.parse(t) as WindowSummary).sort((a, b) => a.windowStartMs - b.windowStartMs);
    const waitForWindows = async (count: number, after: number): Promise<WindowSummary[]> => {
      const deadline = Date.now() + (count + 3) * resolutionMs + 120_000;
      for (;;) {
        const done = (await summaries()).filter((s) => s.windowStartMs > after);
        if (done.length >= count) return done.slice(0, count);
        if (Date.now() > deadline) throw new Error(`only ${done.length} of ${count} windows finalized in time`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    console.log(`bench: ${nodes} nodes x ${get.number('pods-per-node')} pods, ${resolutionMs / 1000} s windows; warming up ...`);
    const [warmup] = await waitForWindows(1, 0);
    const redisPid = redis.pid;
    const pids = [...children.map((c) => ({ role: c.role, pid: c.process.pid! })), ...(redisPid ? [{ role: 'redis', pid: redisPid }] : [])];
    const before = new Map(pids.map((p) => [p.pid, cpuSeconds(p.pid)]));
    const measured = await waitForWindows(windows, warmup!.windowStartMs);
    const rows = new Map<string, { cpuSeconds: number; peakRssBytes: number }>();
    for (const { role, pid } of pids) {
      const row = rows.get(role) ?? { cpuSeconds: 0, peakRssBytes: 0 };
      row.cpuSeconds += cpuSeconds(pid) - before.get(pid)!;
      row.peakRssBytes += peakRssBytes(pid);
      rows.set(role, row);
    }
    const latencies = measured.map((s) => (s.finalizedAtMs - s.windowEndMs) / 1000).sort((a, b) => a - b);
    const scrapes = nodes * windows;
    const pipelineRoles = [...rows.keys()].filter((r) => r !== 'simulate');
    const total = pipelineRoles.reduce((sum, r) => sum + rows.get(r)!.cpuSeconds, 0);
    const totalRss = pipelineRoles.reduce((sum, r) => sum + rows.get(r)!.peakRssBytes, 0);
    const lines = [`\n${'ROLE'.padEnd(12)}${'CPU s'.padStart(10)}${'ms/node-scrape'.padStart(16)}${'peak RSS MiB'.padStart(14)}`];
    for (const [role, row] of rows) lines.push(`${(role === 'simulate' ? 'simulator*' : role).padEnd(12)}${row.cpuSeconds.toFixed(2).padStart(10)}${((row.cpuSeconds * 1000) / scrapes).toFixed(3).padStart(16)}${(row.peakRssBytes / 2 ** 20).toFixed(0).padStart(14)}`);
    lines.push(`${'pipeline'.padEnd(12)}${total.toFixed(2).padStart(10)}${((total * 1000) / scrapes).toFixed(3).padStart(16)}${(totalRss / 2 ** 20).toFixed(0).padStart(14)}   (${((totalRss / nodes) / 2 ** 20).toFixed(3)} MiB per node)`);
    lines.push('* the simulator is not part of the pipeline and is not counted in its total');
    const limitSeconds = await measureLimit(apiUrl, join(dir, 'sim', 'kubelet-ca.crt'), nodes);
    lines.push(`the limit (parse, process, encode in one tight loop, no queues): ${(limitSeconds * 1000).toFixed(3)} ms per node-scrape; the pipeline is ${((total / scrapes) / limitSeconds).toFixed(1)}x that`);
    lines.push(`window latency (window end to finalized): p50 ${percentile(latencies, 50).toFixed(1)} s, p99 ${percentile(latencies, 99).toFixed(1)} s, max ${latencies.at(-1)!.toFixed(1)} s`);
    lines.push(`windows: ${measured.length} measured, ${measured.filter((s) => s.finalizedBy !== 'complete').length} finalized at the deadline, ${measured.filter((s) => s.okNodes < s.expectedNodes).length} incomplete`);
    console.log(lines.join('\n'));
    const json = get.string('json');
    if (json) writeFileSync(json, JSON.stringify({ nodes, podsPerNode: get.number('pods-per-node'), windows, resolutionMs, roles: Object.fromEntries(rows), pipelineCpuMsPerNodeScrape: (total * 1000) / scrapes, pipelinePeakRssBytes: totalRss, limitCpuMsPerNodeScrape: limitSeconds * 1000, latencySeconds: latencies, summaries: measured }, null, 2));
    return 0;
  } finally {
    for (const { process: child } of children) child.kill('SIGKILL');
    client.disconnect();
    await redis.stop();
  }
}
