/**
 * `podometer bench-simulator`: the simulator's own cost per served summary.
 *
 * Starts `podometer simulate` as a child process (so the client's CPU is not counted), fetches
 * every node's summary `--rounds` times with a keep-alive client verifying the kubelet CA, and
 * reads the child's CPU time from its /simulator/stats before and after. Prints CPU per summary,
 * summaries per CPU-second, bytes per summary and the child's RSS.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { request } from 'undici';
import { loadRoleConfig, usage, type OptionSpec } from '../services/common/config.js';
import { KubeletClient } from '../services/scraper/kubelet-client.js';

export const BENCH_SIMULATOR_OPTIONS: readonly OptionSpec[] = [
  { name: 'nodes', type: 'integer', min: 1, default: 5000, description: 'Nodes to simulate.', env: false },
  { name: 'pods-per-node', type: 'integer', min: 0, default: 30, description: 'Pods per node.', env: false },
  { name: 'rounds', type: 'integer', min: 1, default: 2, description: 'How many times every node is scraped.', env: false },
  { name: 'concurrency', type: 'integer', min: 1, default: 64, description: 'Requests in flight at once.', env: false },
  { name: 'kubelet-processes', type: 'integer', min: 0, max: 64, default: 0, description: 'As simulate --kubelet-processes (their CPU and RSS are counted).', env: false },
  { name: 'kubelet-https', type: 'boolean', default: true, description: 'HTTPS kubelets (as in a real cluster).', env: false },
];

export const BENCH_SIMULATOR_HELP = usage('podometer bench-simulator [--nodes N] [--pods-per-node M] [--rounds R]', 'Measures the simulator\'s CPU cost per served summary.', BENCH_SIMULATOR_OPTIONS);

interface Stats {
  cpuUserMicros: number;
  cpuSystemMicros: number;
  rssBytes: number;
  summariesServed: number;
  bytesServed: number;
}

export async function runBenchSimulator(argv: readonly string[]): Promise<number> {
  const config = loadRoleConfig(BENCH_SIMULATOR_OPTIONS, argv, BENCH_SIMULATOR_HELP);
  if (!config) return 0;
  const { get } = config;
  const nodes = get.number('nodes');
  const podsPerNode = get.number('pods-per-node');
  const https = get.boolean('kubelet-https');
  const stateDir = join('.tmp', `bench-simulator-${process.pid}`);
  // This file runs as dist/simulator/bench.js; the entry point is bin/podometer.js.
  const cli = fileURLToPath(new URL('../../bin/podometer.js', import.meta.url));
  const child = spawn(process.execPath, [cli, 'simulate', '--nodes', String(nodes), '--pods-per-node', String(podsPerNode), '--state-dir', stateDir, `--kubelet-processes=${get.number('kubelet-processes')}`, ...(https ? [] : ['--no-kubelet-https'])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const startMs = performance.now();
    const apiUrl = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = out.match(/API server\s+(http:\/\/\S+)/);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`simulator exited with ${code} before it was ready`)));
    });
    const readySeconds = (performance.now() - startMs) / 1000;
    const stats = async (): Promise<Stats> => (await (await request(`${apiUrl}/simulator/stats`)).body.json()) as Stats;
    const targets = (await (await request(`${apiUrl}/simulator/nodes`)).body.json()) as { name: string; url: string }[];
    const caPem = https ? await readFile(join(stateDir, 'kubelet-ca.crt'), 'utf8') : undefined;
    const client = new KubeletClient({ ...(caPem ? { caPem } : {}), timeoutMs: 30_000, maxResponseBytes: 64 * 1024 * 1024 });
    // One warm-up round opens the connections (TLS handshakes) and builds every template.
    await scrapeAll(client, targets, get.number('concurrency'));
    const before = await stats();
    const wallStart = performance.now();
    for (let round = 0; round < get.number('rounds'); round++) await scrapeAll(client, targets, get.number('concurrency'));
    const wallSeconds = (performance.now() - wallStart) / 1000;
    const after = await stats();
    await client.close();
    const served = after.summariesServed - before.summariesServed;
    const cpuMs = (after.cpuUserMicros + after.cpuSystemMicros - before.cpuUserMicros - before.cpuSystemMicros) / 1000;
    const lines = [
      `simulator: ${nodes} nodes x ${podsPerNode} pods, ${https ? 'HTTPS' : 'HTTP'}, ready in ${readySeconds.toFixed(1)} s`,
      `served ${served} summaries in ${wallSeconds.toFixed(1)} s wall (${(served / wallSeconds).toFixed(0)}/s)`,
      `simulator CPU per summary: ${(cpuMs / served).toFixed(3)} ms  (${(served / (cpuMs / 1000)).toFixed(0)} summaries per CPU-second)`,
      `bytes per summary: ${Math.round((after.bytesServed - before.bytesServed) / served)}`,
      `simulator RSS: ${(after.rssBytes / 1024 / 1024).toFixed(0)} MiB`,
    ];
    console.log(lines.join('\n'));
    return 0;
  } finally {
    child.kill('SIGTERM');
  }
}

async function scrapeAll(client: KubeletClient, targets: readonly { name: string; url: string }[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const target = targets[next++]!;
      await client.fetchSummary(target.name, target.url);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
}
