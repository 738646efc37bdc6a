// What one append-only-file rewrite costs Redis, by persistence setting: loads `--windows` windows
// of `--nodes` nodes of staged metric sets (a real kubelet summary from ../shared/fixtures, parsed
// and encoded as the scrapers stage it) into a private redis-server, runs BGREWRITEAOF and prints
// the rewrite child's CPU and the files' size. Run after `npm run build`:
//   node scripts/redis-rewrite-cost.mjs [--nodes 1000] [--windows 4]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { encodeMetricSet } from '../dist/services/common/batch-codec.js';
import { parseSummary } from '../dist/services/common/summary-parser.js';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '1000' }, windows: { type: 'string', default: '4' } } });
const nodes = Number(values.nodes);
const windows = Number(values.windows);
const FIXTURE = new URL('../../shared/fixtures/kubelet-summary/nri_k8s_v1.35_minikube_containerd_stats_summary.json', import.meta.url);
const sets = parseSummary(readFileSync(FIXTURE)).metricSets.map((set) => [set.key, encodeMetricSet(set)]);
const SETTINGS = {
  'as deployed (--rdbcompression no)': ['--rdbcompression', 'no'],
  'Redis default (--rdbcompression yes)': ['--rdbcompression', 'yes'],
};
/** Ticks of ended children (utime + stime of reaped children) of a process. */
const childTicks = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[13]) + Number(f[14]); };

for (const [name, args] of Object.entries(SETTINGS)) {
  const dir = mkdtempSync(join(tmpdir(), 'podometer-rewrite-'));
  const port = 20000 + Math.floor(Math.random() * 10000);
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--auto-aof-rewrite-percentage', '0', ...args], { stdio: 'ignore' });
  const killServer = () => server.kill();
  process.once('exit', killServer); // a failure below must not leave the server running
  // Commands wait (offline queue) until the server is up; refused connects are retried.
  const redis = new Redis(port, { retryStrategy: () => 100 }).on('error', () => {});
  for (let w = 0; w < windows; w++) {
    for (let n = 0; n < nodes; n++) await redis.hset(`window:${w}:sets`, ...sets.flatMap(([key, json]) => [`${key}-${n}`, json]));
  }
  const usedMiB = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))[1]) / 2 ** 20;
  const before = childTicks(server.pid);
  await redis.bgrewriteaof();
  const persistence = async () => redis.info('persistence');
  while (/aof_rewrite_in_progress:1|aof_rewrite_scheduled:1/.test(await persistence())) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300)); // the child is reaped after the flag clears
  const cpuSeconds = (childTicks(server.pid) - before) / 100;
  const fileMiB = readdirSync(join(dir, 'appendonlydir')).reduce((sum, f) => sum + statSync(join(dir, 'appendonlydir', f)).size, 0) / 2 ** 20;
  console.log(`${name}: ${nodes} nodes x ${windows} windows x ${sets.length} sets, ${usedMiB.toFixed(0)} MiB in Redis; one rewrite: ${cpuSeconds.toFixed(2)} s CPU, files ${fileMiB.toFixed(0)} MiB`);
  redis.disconnect();
  process.off('exit', killServer);
  server.kill();
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
