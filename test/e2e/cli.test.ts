import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CLI, scratchDir, SUMMARY_FIXTURES, summaryFixture } from '../helpers.js';
import { kubeletProcessesFor, type BenchResult } from '../../services/cli/bench.js';

const run = promisify(execFile);

async function podometer(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return podometerWithEnv({}, ...args);
}

async function podometerWithEnv(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface ExportEntry {
  labels: Record<string, string>;
  metrics: Record<string, { start: string; end: string; value: number | string; labels?: Record<string, string> }[]>;
}

describe('podometer summary', () => {
  it('prints Heapster metric-export JSON with values from the file', async () => {
    const { code, stdout } = await podometer('summary', join(SUMMARY_FIXTURES, 'nri_k8s_v1.35_minikube_containerd_stats_summary.json'), '--format', 'json');
    assert.equal(code, 0);
    const exported = JSON.parse(stdout) as ExportEntry[];
    const etcd = exported.find((e) => e.labels.type === 'pod_container' && e.labels.pod_name === 'etcd-datagen-1-35')!;
    assert.deepEqual(Object.keys(etcd.labels).sort(), ['container_name', 'hostname', 'namespace_name', 'nodename', 'pod_id', 'pod_name', 'type']);
    assert.equal(etcd.metrics['memory/working_set']![0]!.value, 44290048);
    const point = etcd.metrics['memory/working_set']![0]!;
    assert.match(point.start, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(point.end, point.start);
    const root = etcd.metrics['filesystem/usage']!.find((p) => p.labels?.resource_id === '/');
    assert.ok(root, 'labeled points carry their resource_id');
  });

  it('prints a value above 2^53 as an exact decimal string', async () => {
    const dir = scratchDir('cli');
    const file = join(dir, 'big.json');
    writeFileSync(file, summaryFixture('nri_k8s_v1.35_minikube_containerd_stats_summary.json').replace('"inodesFree": 59206606', '"inodesFree": 18446744073709551615'));
    const exported = JSON.parse((await podometer('summary', file, '--format=json')).stdout) as ExportEntry[];
    const node = exported.find((e) => e.labels.type === 'node')!;
    assert.equal(node.metrics['filesystem/inodes_free']!.find((p) => p.labels?.resource_id === '/')!.value, '18446744073709551615');
  });

  it('with --previous, prints rates between two samples', async () => {
    const dir = scratchDir('cli');
    const earlier = join(dir, 'earlier.json');
    // the same node 10 s earlier, its kubelet with 5 CPU-seconds less: 500 millicores
    const doc = JSON.parse(summaryFixture('telegraf_stats_summary.json')) as { node: { systemContainers: { name: string; cpu: { time: string; usageCoreNanoSeconds: number } }[] } };
    const kubeletCpu = doc.node.systemContainers.find((c) => c.name === 'kubelet')!.cpu;
    assert.equal(kubeletCpu.time, '2016-09-27T16:57:31Z');
    kubeletCpu.time = '2016-09-27T16:57:21Z';
    kubeletCpu.usageCoreNanoSeconds -= 5e9;
    writeFileSync(earlier, JSON.stringify(doc));
    const { stdout, code } = await podometer('summary', join(SUMMARY_FIXTURES, 'telegraf_stats_summary.json'), '--previous', earlier, '--format', 'json');
    assert.equal(code, 0);
    const exported = JSON.parse(stdout) as ExportEntry[];
    const kubelet = exported.find((e) => e.labels.type === 'sys_container' && e.labels.container_name === 'kubelet')!;
    const rate = kubelet.metrics['cpu/usage_rate']![0]!;
    assert.equal(rate.value, 500);
    assert.equal(rate.start, '2016-09-27T16:57:21Z');
    assert.equal(rate.end, '2016-09-27T16:57:31Z');
  });

  it('shows a table by default', async () => {
    const { stdout } = await podometer('summary', join(SUMMARY_FIXTURES, 'telegraf_stats_summary.json'));
    assert.match(stdout, /^METRIC SET\s+METRIC\s+RESOURCE\s+VALUE\s+RAW/);
    assert.match(stdout, /namespace:foons\/pod:foopod\/container:foocontainer\s+memory\/working_set\s+29\.4 MiB\s+30789632/);
    assert.match(stdout, /node node1: 1 node, 2 sys_container, 2 pod, 2 pod_container/);
  });

  it('rejects a malformed summary with the node and the field, exit 1', async () => {
    const dir = scratchDir('cli');
    const file = join(dir, 'bad.json');
    writeFileSync(file, summaryFixture('telegraf_stats_summary.json').replace('"rxBytes": 70749124', '"rxBytes": -1'));
    const { code, stderr } = await podometer('summary', file);
    assert.equal(code, 1);
    assert.match(stderr, /node "node1": pods\[0\]\(foons\/foopod\)\.network\.rxBytes: must not be negative/);
  });

  it('reports every flag problem at once, exit 2', async () => {
    const { code, stderr } = await podometer('summary', 'x.json', '--format', 'xml', '--bogus');
    assert.equal(code, 2);
    assert.match(stderr, /unknown flag --bogus/);
    assert.match(stderr, /must be one of table, json/);
  });
});

describe('podometer entry point', () => {
  it('has --help on every role and lists the roles', async () => {
    const top = await podometer('--help');
    assert.equal(top.code, 0);
    const roles = [...top.stdout.matchAll(/^  (\S+)\s{2,}/gm)].map((m) => m[1]!);
    assert.deepEqual(roles.sort(), ['all', 'api', 'bench', 'bench-simulator', 'demo', 'eventer', 'exporter', 'processor', 'scheduler', 'scraper', 'simulate', 'summary']);
    for (const role of roles) {
      const { code, stdout } = await podometer(role, '--help');
      assert.equal(code, 0, role);
      assert.match(stdout, new RegExp(`^Usage: podometer ${role}`), role);
    }
    assert.equal((await podometer('nonsense')).code, 2);
  });

  it('a pipeline role reports every configuration problem at once, exit 2, before connecting anywhere', async () => {
    const { code, stderr } = await podometer('all', '--redis-url=http://127.0.0.1:1', '--source=prometheus:http://x', '--metric-resolution=1s', '--kubelet-ca-file=/no/such/ca.crt', '--source=kubernetes.summary_api:https://k?kubeletPrt=1');
    assert.equal(code, 2);
    assert.match(stderr, /--redis-url="http:\/\/127.0.0.1:1": must be a redis:\/\/ or rediss:\/\/ URL/);
    assert.match(stderr, /unknown option "kubeletPrt"/);
    assert.match(stderr, /--metric-resolution="1s": must be at least 5000 ms/);
    assert.match(stderr, /--kubelet-ca-file="\/no\/such\/ca.crt": no such file/);
    assert.doesNotMatch(stderr, /ECONNREFUSED|redis connection/);
  });

  it('role-level problems (auth off loopback, TLS flags apart, an eventer without sinks) are reported before connecting', async () => {
    const api = await podometer('api', '--redis-url=redis://127.0.0.1:1', '--api-address=0.0.0.0:8082', '--tls_cert=/dev/null');
    assert.equal(api.code, 2);
    assert.match(api.stderr, /--tls_cert and --tls_key go together/);
    assert.match(api.stderr, /--api-address=0.0.0.0 is not loopback/);
    const eventer = await podometer('eventer', '--redis-url=redis://127.0.0.1:1', '--metrics-address=0.0.0.0:9105');
    assert.equal(eventer.code, 2);
    assert.match(eventer.stderr, /needs at least one --sink/);
    assert.match(eventer.stderr, /--metrics-address=0.0.0.0 is not loopback/);
    assert.doesNotMatch(api.stderr + eventer.stderr, /ECONNREFUSED|redis connection/);
  });

  it('a sink URI with a typo is a startup error naming the option', async () => {
    const { code, stderr } = await podometer('exporter', '--sink=influxdb:http://127.0.0.1:8086?dbb=k8s', '--sink=elasticsearch:http://127.0.0.1:9200?bulkworkers=5');
    assert.equal(code, 2);
    assert.match(stderr, /--sink "influxdb:http:\/\/127.0.0.1:8086\?dbb=k8s": unknown option "dbb"/);
    assert.match(stderr, /unknown option "bulkworkers"/);
  });

  it('a role that cannot start (its metrics address taken) says why in one line, stops what it started and exits 1', { timeout: 60_000 }, async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(taken.address() as AddressInfo).port}`;
    try {
      // Redis unreachable too: before, the role went on reconnecting to it forever, serving nothing.
      const { code, stderr } = await podometer('processor', '--redis-url=redis://127.0.0.1:1', `--metrics-address=${address}`, '--log-level=error');
      assert.equal(code, 1);
      assert.match(stderr, new RegExp(`^podometer processor: listen EADDRINUSE: address already in use ${address}$`, 'm'));
      assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
    } finally {
      taken.close();
    }
  });

  it('simulate rejects bad flags before starting anything', async () => {
    const { code, stderr } = await podometer('simulate', '--nodes', '0', '--fault', 'explode:2');
    assert.equal(code, 2);
    assert.match(stderr, /--nodes.*must be at least 1/);
    assert.match(stderr, /--fault "explode:2": unknown fault "explode"/);
  });
});

describe('podometer bench', () => {
  it('serves the kubelets from the simulator\'s own process until its sockets near the open-file limit', () => {
    // A listener per node and a kept connection per node and scraper, against 80% of the limit.
    assert.equal(kubeletProcessesFor(5000, 2, 20_000), 0, '15,000 sockets fit under 16,000');
    assert.equal(kubeletProcessesFor(10_000, 2, 20_000), 2, '30,000 sockets: two processes of 15,000');
    assert.equal(kubeletProcessesFor(10_000, 4, 20_000), 4, '50,000 sockets: four processes of 12,500');
  });

  it('measures each size of a curve with every role as a process: CPU per node-scrape per role, memory, latency to the store, the limit, profiles', async () => {
    const dir = scratchDir('bench-test');
    const jsonFile = join(dir, 'bench.json');
    // The bench's own files (Redis's, the simulator's) go under TMPDIR and must be gone after it.
    const scratch = join(dir, 'tmp');
    mkdirSync(scratch);
    // A bench killed with SIGKILL left its directory; the next bench removes it, but not a running bench's.
    const abandoned = join(scratch, 'podometer-bench-abandoned');
    mkdirSync(join(abandoned, 'redis'), { recursive: true });
    writeFileSync(join(abandoned, 'redis', 'appendonly.aof'), 'x'.repeat(1024));
    writeFileSync(join(abandoned, 'owner.pid'), String(spawnSync(process.execPath, ['-e', '']).pid));
    mkdirSync(join(scratch, 'podometer-bench-running'));
    writeFileSync(join(scratch, 'podometer-bench-running', 'owner.pid'), String(process.pid));
    // Kubelets in two simulator processes, as the bench chooses at 10,000 nodes: their CPU is the simulator's.
    // A young generation of 1 MiB: the roles collect a few times even in windows this small.
    const { code, stdout } = await podometerWithEnv({ TMPDIR: scratch, NODE_OPTIONS: '--max-semi-space-size=1' }, 'bench', '--curve', '2,3', '--pods-per-node', '3', '--windows', '2', '--warmup-windows', '1', '--resolution', '5s', '--kubelet-processes', '2', '--profile', join(dir, 'profiles'), '--json', jsonFile);
    assert.equal(code, 0, stdout);
    const tables = stdout.split(/^bench: /m).slice(1);
    assert.deepEqual(tables.map((t) => t.split(' ')[0]), ['2', '3'], 'one table per size');
    for (const table of tables) {
      assert.match(table, /^\d+ nodes x 3 pods, 5 s windows \(kubelets in 2 simulator processes\)/);
      // One scraper: the first window opens every connection, the next none, and warm-up ends there.
      assert.match(table, /^warmed up for 2 windows; the last opened 0 kubelet connections$/m);
      assert.match(table, /^kubelet connections opened: 0 \(/m, 'the measured windows reused the kept connections');
      // 5 s windows: ~3 s between the last window reaching the store and the next window's jobs.
      assert.match(table, /^idle between windows \(\d+ s, after the last measured window reached every sink\): \d+\.\d\d ms of CPU a second \((?=.*\bscraper \d+\.\d\d)(?=.*\bredis \d+\.\d\d).*\); over a window, \d+\.\d{3} ms of each node-scrape's total at this size$/m);
      for (const role of ['scheduler', 'scraper', 'processor', 'exporter', 'redis', 'pipeline', 'simulator*']) assert.match(table, new RegExp(`^${role.replace('*', '\\*')}\\s+\\d+\\.\\d+\\s+\\d+\\.\\d+\\s+\\d+`, 'm'), role);
      assert.match(table, /^windows: 2 measured, 0 finalized at the deadline \(late\), 0 incomplete; scrape failures 0$/m);
      for (const role of ['scheduler', 'scraper', 'processor', 'exporter']) assert.match(table, new RegExp(`^  ${role}\\s+\\d+\\.\\d{3} ms per node-scrape in \\d+ collections \\(\\d+ full\\); +\\d+ KiB allocated and +\\d+ KiB promoted to the old generation per node-scrape$`, 'm'), `${role}'s garbage collection`);
      assert.match(table, /^the limit \(parse, process, encode in one tight loop, no queues\): \d+\.\d+ ms per node-scrape; the pipeline is \d+\.\d+x that$/m);
      assert.match(table, /^processing in the scrapers \(each node's parse, process and encode step, CPU read around it\): \d+\.\d{3} ms per node-scrape, \d+\.\dx the limit; the scrapers' other \d+\.\d{3} ms went to fetching, queues and Redis I\/O$/m);
      assert.match(table, /^the floor \(before any parsing: [^)]*\): \d+\.\d+ ms per node-scrape \(the jobs \d+\.\d+ ms in the process that adds and takes them and \d+\.\d+ ms in Redis; the fetch \d+\.\d+ ms\); floor \+ limit \d+\.\d+ ms$/m);
      assert.match(table, /^window latency \(scrape time to written to store\): p50 \d+\.\d s, p99 \d+\.\d s, max \d+\.\d s$/m);
      assert.match(table, /^scraped \d+\.\d KiB per node; \d+ node-scrapes \(scraped and processed\) per second while a window is in flight, in scrape jobs of up to 8 nodes$/m);
      assert.match(table, /^redis append-only-file rewrites: \d+\.\d\d s CPU over the run's \d+ node-scrapes, so \d+\.\d{3} ms per node-scrape in the redis row/m);
      // 15 minutes of long-term values at 5 s windows: 180 windows, of which the run held a few.
      assert.match(table, /^redis at the store's full long-term retention \(180 windows of long-term values; the run held [3-9]\): ~\d+ MiB estimated \(peak \d+ MiB \+ \d+ MiB of long-term values per window to come\)/m);
      assert.match(table, /^redis memory once the measured windows were in \(MEMORY USAGE of every key, by kind; used_memory \d+ MiB\): .*window sets \d+ MiB \(\d+ windows\)/m);
      assert.match(table, /^profile processor-0 \(self time, share of its busy samples over the measured windows\):\n\s+\d+\.\d%  \S/m, 'the processor was profiled');
      // Counting callees, only Podometer's code and its packages are listed (the event loop's frames would top every list).
      const inclusive = /^profile processor-0 \(counting callees[^\n]*\n((?:\s+\d+\.\d%  .*\n?)+)/m.exec(table)?.[1]?.trim().split('\n') ?? [];
      assert.ok(inclusive.length > 0, 'the processor\'s functions counting callees');
      for (const line of inclusive) assert.match(line, /^\s*\d+\.\d%  \S.* (dist|node_modules)\/\S+:\d+$/);
      assert.match(table, /^redis commands[^\n]*\n\s+\d+\.\d\d s\s+\d+ calls  \w+/m);
    }
    assert.match(stdout, /^scale curve \(3 pods per node, 5 s windows, 2 windows each\):\n(.*\n){2}\s+2\s+\d+\.\d\d.*\n\s+3\s+\d+\.\d\d/m);
    const figures = JSON.parse(readFileSync(jsonFile, 'utf8')) as BenchResult[];
    assert.deepEqual(figures.map((f) => f.nodes), [2, 3]);
    // Every role's collections were read from its trace, and the scraper, which parses every summary, collected in each size.
    for (const f of figures) {
      assert.deepEqual(Object.keys(f.gc).sort(), ['exporter', 'processor', 'scheduler', 'scraper']);
      assert.ok(f.idle && f.idle.seconds >= 2, `idle measured for ${f.idle?.seconds} s`);
      assert.deepEqual(Object.keys(f.idle.cpuMsPerSecond).sort(), ['exporter', 'processor', 'redis', 'scheduler', 'scraper'], 'every role and Redis, not the simulator');
      const scraper = f.gc['scraper']!;
      assert.ok(scraper.collections > 0 && scraper.allocatedBytes > 0 && scraper.pauseSeconds > 0, JSON.stringify(f.gc));
    }
    assert.deepEqual(readdirSync(scratch), ['podometer-bench-running'], 'each size removed its Redis and simulator files, and an abandoned bench\'s');
    assert.deepEqual(figures.map((f) => f.roles['simulate']!.processes), [3, 3], 'the simulator\'s figures count its two kubelet processes');
    assert.deepEqual(figures.map((f) => f.roles['scraper']!.processes), [1, 1]);
    for (const f of figures) {
      assert.ok(f.limitCpuMsPerNodeScrape > 0 && f.pipelineCpuMsPerNodeScrape > 0);
      // Every measured node was processed in a scraper, and that step is part of the scrapers' CPU.
      const scraperMs = (f.roles['scraper']!.cpuSeconds * 1000) / (2 * f.nodes);
      assert.ok(f.processingCpuMsPerNodeScrape > 0 && f.processingCpuMsPerNodeScrape < scraperMs, `processing ${f.processingCpuMsPerNodeScrape} ms within the scrapers' ${scraperMs} ms per node-scrape`);
      // The floor's no-op jobs went through real queues and Redis, and the fetch over real TLS.
      const floor = f.floorCpuMsPerNodeScrape;
      assert.ok(floor.queueClient > 0 && floor.queueRedis > 0 && floor.fetch > 0, `every part of the floor was measured: ${JSON.stringify(floor)}`);
      assert.ok(f.latencySeconds['store']!.p99 > 0, 'the store wrote every window after its scrape time');
      assert.deepEqual(f.summaries.map((s) => s.okNodes), [f.nodes, f.nodes]);
      // The rewrites are spread over the whole run's node-scrapes, warm-up included.
      assert.ok(f.redisRewriteRun.nodeScrapes > 2 * f.nodes, `the run scraped more than the measured windows (${f.redisRewriteRun.nodeScrapes})`);
      assert.ok(f.redisRewriteRun.inMeasuredWindowsSeconds <= f.redisRewriteRun.seconds);
      const full = f.redisFullRetention;
      assert.ok(full.longTermBytesPerWindow > 0, 'the last measured window\'s long-term values are in Redis');
      assert.equal(full.estimatedPeakRssBytes, f.roles['redis']!.peakRssBytes + (full.windowsFull - full.windowsHeld) * full.longTermBytesPerWindow);
      // Every kind the pipeline writes is in Redis, and the keys add up to less than Redis uses in all.
      const memory = f.redisMemory;
      for (const kind of ['window sets', 'long-term values', 'window bookkeeping', 'rate samples', 'metadata', 'queues'] as const) assert.ok((memory.byKind[kind] ?? 0) > 0, `Redis holds ${kind}`);
      const keyBytes = Object.values(memory.byKind).reduce((sum, bytes) => sum + bytes, 0);
      assert.ok(keyBytes < memory.usedBytes, `${keyBytes} bytes of keys within used_memory ${memory.usedBytes}`);
      // The store keeps full windows 140 s: at 5 s windows, every window of the run still is.
      assert.ok(memory.windowSetsKeys >= full.windowsHeld, `${memory.windowSetsKeys} windows of sets, ${full.windowsHeld} summaries`);
    }
  });

  it('a size whose role stops is reported as not measured, with the role\'s own words, and the exit code says so', async () => {
    // The roles read PODOMETER_* from the environment the bench passes on; this one stops the scraper at start.
    const { code, stdout } = await podometerWithEnv({ PODOMETER_SCRAPER_CONCURRENCY: '0' }, 'bench', '--curve', '2,3', '--pods-per-node', '1', '--windows', '1', '--warmup-windows', '1', '--resolution', '5s');
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^2 nodes: not measured: scraper exited \(2\): .*PODOMETER_SCRAPER_CONCURRENCY="0": must be at least 1/m);
    assert.match(stdout, /^\s+3  not measured: scraper exited \(2\)/m, 'the curve went on to the next size and lists both');
  });
});
