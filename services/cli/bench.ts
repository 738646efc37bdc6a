/**
 * `podometer bench`: the pipeline's cost, measured as it runs in production: a private Redis, the
 * simulator and each role as its own process. It warms up for at least `--warmup-windows` windows
 * and until a window opens few new kubelet connections (WARM_NEW_CONNECTIONS), then runs `--windows`
 * windows and prints, per role and for Redis (the simulator's own CPU apart):
 *   CPU seconds per node-scrape (from /proc/<pid>/stat), peak RSS (VmHWM), window latency from
 *   the window's scrape time to the window written to the store and each sink (p50/p99/max),
 *   bytes scraped per node, node-scrapes per second, scrape failures, windows finalized late or incomplete,
 *   and the limit: the same summaries parsed, processed and encoded in one tight loop in this
 *   process with no queues, and the pipeline's ratio to it; and the floor: the nodes' no-op scrape
 *   jobs through the same queues and the summary's fetch over a kept TLS connection, the cost a
 *   node-scrape has before anything is parsed.
 * `--curve 100,1000,5000` runs the whole measurement once per size and prints one line per size.
 * `--profile DIR` runs every role under the V8 CPU profiler and prints each role's costliest functions.
 * Linux only (/proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadRoleConfig, usage, type OptionSpec } from '../common/config.js';
import { cpuMsSince } from '../common/cpu.js';
import type { ConfigReader } from '../common/runtime.js';
import { NODES_PER_SCRAPE_JOB, type PodMeta, type ScrapeJob, type WindowSummary } from '../common/jobs.js';
import type { NamespaceLike, NodeLike, PodLike } from '../scheduler/metadata.js';
import { redisKeys, type RedisKeyKind, type RedisKeys } from '../common/keys.js';
import { execOrThrow } from '../common/redis.js';
import { SCRAPER_OPTIONS, STORE_OPTIONS } from '../common/options.js';
import { sinkNames } from '../common/sink-config.js';
import { ROLE_NODE_FLAGS } from '../common/node-flags.js';
import { freePortBelowEphemeralRange, LocalRedis } from '../../simulator/redis-server.js';
import { emptyGcTally, GcTrace, type GcTally } from './gc-trace.js';

export const BENCH_OPTIONS: readonly OptionSpec[] = [
  { name: 'nodes', type: 'integer', min: 1, default: 1000, description: 'Simulated nodes.', env: false },
  { name: 'pods-per-node', type: 'integer', min: 0, default: 30, description: 'Pods per node.', env: false },
  { name: 'containers-per-pod', type: 'integer', min: 1, default: 1, description: 'Containers per pod.', env: false },
  { name: 'windows', type: 'integer', min: 1, default: 3, description: 'Windows measured (after the warm-up windows).', env: false },
  { name: 'warmup-windows', type: 'integer', min: 1, default: 3, description: 'Windows run at least before measuring; warm-up goes on (up to 10 windows) until a window opens new kubelet connections for at most 2% of the nodes: a long-running deployment has each scraper holding a connection to every kubelet of its scrape shards.', env: false },
  { name: 'resolution', type: 'duration', min: 5000, default: 30_000, description: 'Window length.', env: false },
  { name: 'scrapers', type: 'integer', min: 1, default: 1, description: 'Scraper processes (each scrapes and processes nodes: the CPU-heavy role).', env: false },
  { name: 'processors', type: 'integer', min: 1, default: 1, description: 'Processor processes (they finalize windows).', env: false },
  { name: 'kubelet-processes', type: 'integer', min: 0, max: 64, valueName: 'N', description: 'Simulator processes serving the kubelets (as simulate --kubelet-processes). Default: 0 while the simulator\'s sockets stay under 80% of the open-file limit, else enough that each process\'s do.', env: false },
  { name: 'sink', type: 'strings', default: [], valueName: 'URI', description: 'Sinks besides the store (as --sink of the roles).', env: false },
  { name: 'curve', type: 'list', default: [], valueName: 'N,N,...', description: 'Node counts to measure one after another (one line each); overrides --nodes.', env: false, check: (n) => (/^[1-9]\d*$/.test(n) ? undefined : 'must be a node count') },
  { name: 'profile', type: 'string', default: '', valueName: 'DIR', description: 'Run every role under the V8 CPU profiler (profiles in DIR) and print its costliest functions.', env: false },
  { name: 'json', type: 'string', default: '', valueName: 'FILE', description: 'Also write the figures as JSON here.', env: false },
];

export const BENCH_HELP = usage('podometer bench [--nodes N | --curve N,N,...] [--pods-per-node M] [--windows W] [--resolution 30s]', 'Runs the simulator and every role as its own process and measures the pipeline.', BENCH_OPTIONS);

const CLI = join(import.meta.dirname, '..', '..', '..', 'bin', 'podometer.js');
const TICKS_PER_SECOND = 100;
const MiB = 2 ** 20;
/** Warm-up ends once a window opened new kubelet connections for at most this share of the nodes... */
const WARM_NEW_CONNECTIONS = 0.02;
/** ... or after this many windows. */
const MAX_WARMUP_WINDOWS = 10;
/**
 * V8 flags for the simulator. It stands in for kubelets that run on other machines, but here it
 * shares the cores with the pipeline, so its garbage collection is the bench's noise. Its cluster
 * model is ~275 MB of live heap at 1,000 nodes; with V8's default growth its old generation was
 * marked in full about once a window (~0.25 s of its main thread each, `--trace-gc`, plus V8's
 * helper threads: ~54% of its CPU by perf). With its old generation let grow to double before a
 * full collection and no memory reducer between windows, a 200 s trace had one full collection in
 * the ~175 s after start-up (about three windows). Its memory is not the pipeline's.
 */
const SIMULATOR_NODE_FLAGS: readonly string[] = ['--heap-growing-percent=100', '--no-memory-reducer'];
/** How long the roles keep long-term values in the store (they run with the default). */
const LONG_RETENTION_MS = Number(STORE_OPTIONS.find((o) => o.name === 'store-long-retention')?.default);

/** Scrape jobs in flight per scraper (the roles run with the default). */
const SCRAPER_CONCURRENCY = Number(SCRAPER_OPTIONS.find((o) => o.name === 'scraper-concurrency')?.default);

/** The limit is measured on at most this many nodes: its cost per node does not depend on the count. */
const LIMIT_SAMPLE_NODES = 1000;
/** Untimed passes of the limit before it is timed: its cost per pass settles only after a few. */
const LIMIT_WARM_PASSES = 3;
/** Timed passes of the limit over the same summaries; it reports their median. */
const LIMIT_TIMED_PASSES = 5;
const STDERR_TAIL_CHARS = 4000;
/** The last `count` non-blank lines of `text`, joined with ' | '. */
const lastLines = (text: string, count: number): string => text.split('\n').map((line) => line.trim()).filter(Boolean).slice(-count).join(' | ');

/** The fields of /proc/<pid>/stat after the command name: [0] state, [1] ppid, [11..14] CPU ticks. */
const statFields = (pid: number | string): string[] => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');

/** CPU seconds of a process (`own`) and of its children that have ended (`children`: Redis's AOF rewrites). */
function cpuTimes(pid: number): { own: number; children: number } {
  const fields = statFields(pid);
  return { own: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND, children: (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND };
}

/** The processes whose parent is `pid` (the simulator's kubelet processes). */
function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(statFields(entry)[1]) === pid) children.push(Number(entry));
    } catch {
      // the process ended while listing
    }
  }
  return children;
}

/** This process's soft limit on open files (what a child inherits). */
function openFileLimit(): number {
  const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return match ? Number(match[1]) : 1024;
}

/**
 * Kubelet processes for the simulator: 0 (its own process) while its sockets (a listener per node,
 * and a kept connection per node and scraper) stay under 80% of the open-file limit, else enough
 * child processes that each does.
 */
export function kubeletProcessesFor(nodes: number, scrapers: number, fileLimit: number): number {
  const sockets = nodes * (1 + scrapers);
  const perProcess = Math.floor(fileLimit * 0.8);
  return sockets <= perProcess ? 0 : Math.ceil(sockets / perProcess);
}

function peakRssBytes(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

interface Latency {
  p50: number;
  p99: number;
  max: number;
}

/** Everything one size measured. Times in seconds unless named otherwise. */
export interface BenchResult {
  nodes: number;
  podsPerNode: number;
  windows: number;
  resolutionMs: number;
  /** By role: its processes, their CPU over the measured windows and their peak RSS, summed. */
  roles: Record<string, { processes: number; cpuSeconds: number; peakRssBytes: number }>;
  /**
   * By Podometer role: its garbage collections over the measured windows, from V8's
   * `--trace-gc-nvp` (every role but the simulator runs with it): how many, the main threads'
   * pauses (part of the role's CPU) and the bytes allocated on the heap.
   */
  gc: Record<string, GcTally>;
  /** Nodes processed over the measured windows: what the CPU figures are divided by. */
  nodeScrapes: number;
  pipelineCpuMsPerNodeScrape: number;
  pipelinePeakRssBytes: number;
  limitCpuMsPerNodeScrape: number;
  /**
   * The scrapers' CPU over each node's parse, process and encode step as the pipeline ran it (the
   * windows' `processingCpuMs`), per node-scrape: the limit's work, plus decoding the node's previous
   * sample and pod list and queueing its staging writes. Set against the limit, it says how much of
   * the pipeline's distance to the limit is the same work running slower, and how much is the rest.
   */
  processingCpuMsPerNodeScrape: number;
  /**
   * The floor, ms of CPU per node-scrape that any pipeline with a queue job per node and an HTTPS
   * kubelet pays before it parses anything: a no-op scrape job (`queueClient`: adding and taking
   * it, in one process; `queueRedis`: Redis's side) and fetching the summary over a kept TLS
   * connection (`fetch`). Measured after the roles stop, in this process, like the limit.
   */
  floorCpuMsPerNodeScrape: { queueClient: number; queueRedis: number; fetch: number; total: number };
  /** From the window's scrape time to the window written, by sink (`store` first). */
  latencySeconds: Record<string, Latency>;
  windowsLate: number;
  windowsIncomplete: number;
  scrapeFailures: number;
  bytesPerScrape: number;
  /** Windows run before measuring, and the kubelet connections the last of them opened. */
  warmupWindows: number;
  kubeletConnectionsOpenedInLastWarmup: number;
  /** Kubelet connections the simulator accepted over the measured windows: TLS handshakes on both sides. */
  kubeletConnectionsOpened: number;
  /** Nodes scraped and processed per second while a window is in flight (scrape time to finalized). */
  nodeScrapesPerSecond: number;
  /** Redis's own time per command over the measured windows (INFO commandstats), costliest first. */
  redisCommands: { command: string; calls: number; seconds: number }[];
  /**
   * Redis's append-only-file rewrites (its ended children): their CPU over the whole run (warm-up
   * included), the node-scrapes of the run, and the part that fell in the measured windows. The
   * redis row counts them amortized, `seconds` x measured node-scrapes / `nodeScrapes`, not what
   * fell in the measured windows: one rewrite dumps the whole dataset, so whether one fell in two
   * windows moved the row by 2x between runs.
   */
  redisRewriteRun: { seconds: number; nodeScrapes: number; inMeasuredWindowsSeconds: number };
  /**
   * Redis once the store holds its full long-term retention, which a run is too short to reach:
   * the peak RSS plus the long-term values (`window:<W>:long`, Redis's MEMORY USAGE of the last
   * measured window's) of the windows still to come. An estimate: what is past the run is not
   * measured.
   */
  redisFullRetention: { windowsFull: number; windowsHeld: number; longTermBytesPerWindow: number; estimatedPeakRssBytes: number };
  /**
   * What Redis holds once the measured windows are in: Redis's MEMORY USAGE of every key, summed
   * by kind, beside its used_memory (which adds Redis's own overhead: clients, buffers, the
   * keyspace's tables). Read after the roles' CPU, so it is not counted in the redis row.
   */
  redisMemory: RedisMemory;
  /**
   * The pipeline idling, between windows: from when the last measured window reached every sink
   * to a second before the next window's scrapes, each role's CPU and Redis's in ms per second
   * (/proc, like the roles' rows). What the pipeline costs whatever the cluster's size (the queues'
   * stalled-job checks and blocking waits, the scrapers' heartbeats, the scheduler's lease, Redis's
   * own timers). Undefined when that interval was under IDLE_MIN_MS.
   */
  idle: { seconds: number; cpuMsPerSecond: Record<string, number> } | undefined;
  summaries: WindowSummary[];
  /** The measured interval on the monotonic clock, to pick the profiles' samples from it. */
  measuredMicros: [number, number];
}

/** `INFO commandstats` -> calls and CPU seconds per command (a Lua script's commands count under eval/evalsha). */
function parseCommandStats(info: string): BenchResult['redisCommands'] {
  const rows: BenchResult['redisCommands'] = [];
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) rows.push({ command: match[1]!, calls: Number(match[2]), seconds: Number(match[3]) / 1e6 });
  return rows.sort((a, b) => b.seconds - a.seconds);
}

/**
 * The limit: the work a window needs, with no queues and no Redis. Fetches the summaries of up to
 * LIMIT_SAMPLE_NODES nodes twice (two samples, for rates) and the cluster's nodes, pods and
 * namespaces (as the scheduler would hold them), then in one tight loop parses, processes (rates
 * against the first sample, enrichment with that metadata, aggregation) and encodes each node's
 * second sample for the store. CPU seconds per node, for one window's work per node.
 */
async function measureLimit(apiUrl: string, caFile: string): Promise<{ limitSeconds: number; fetchSeconds: number }> {
  const { KubeletClient } = await import('../scraper/kubelet-client.js');
  const { parseSummary } = await import('../common/summary-parser.js');
  const { processNode } = await import('../processor/process-node.js');
  const { DEFAULT_ENRICH_OPTIONS } = await import('../processor/enrich.js');
  const { namespaceMeta, nodeMeta, podMeta } = await import('../scheduler/metadata.js');
  const { encodeLongTermFields, unpackMetricSets } = await import('../common/batch-codec.js');
  const { encodeNodeFields } = await import('../common/staging.js');
  const targets = ((await (await fetch(`${apiUrl}/simulator/nodes`)).json()) as { name: string; url: string }[]).slice(0, LIMIT_SAMPLE_NODES);
  const client = new KubeletClient({ caPem: readFileSync(caFile, 'utf8'), timeoutMs: 30_000, maxResponseBytes: 64 * 1024 * 1024 });
  const fetchAll = async (): Promise<Buffer[]> => {
    const bodies: Buffer[] = [];
    for (let i = 0; i < targets.length; i += 64) bodies.push(...(await Promise.all(targets.slice(i, i + 64).map(async (t) => (await client.fetchSummary(t.name, t.url)).body))));
    return bodies;
  };
  const list = async <T>(path: string): Promise<T[]> => ((await (await fetch(`${apiUrl}${path}`)).json()) as { items: T[] }).items;
  const nodeByName = new Map((await list<NodeLike>('/api/v1/nodes')).map((n) => [n.metadata?.name ?? '', nodeMeta(n)]));
  const namespaces = new Map((await list<NamespaceLike>('/api/v1/namespaces')).map((n) => [n.metadata?.name ?? '', namespaceMeta(n)]));
  // Only the sampled nodes' pods are kept: with the whole cluster's in this heap (300,000 pods at
  // 10,000 nodes), the same work read 1.45 / 1.50 / 1.69 ms at 1,000 / 5,000 / 10,000 nodes in one
  // curve; with the sampled ones only, 1.35 / 1.43 / 1.40 in the next.
  const sampled = new Set(targets.map((t) => t.name));
  const podsByNode = new Map<string, PodMeta[]>();
  for (const pod of (await list<PodLike>('/api/v1/pods')).map(podMeta)) {
    if (!sampled.has(pod.nodeName)) continue;
    const onNode = podsByNode.get(pod.nodeName) ?? [];
    onNode.push(pod);
    podsByNode.set(pod.nodeName, onNode);
  }
  const first = await fetchAll();
  await new Promise((r) => setTimeout(r, 1100));
  // The second fetch reuses the connections the first opened, as a warm scraper does.
  const fetchStarted = process.cpuUsage();
  const second = await fetchAll();
  const fetchSeconds = cpuMsSince(fetchStarted) / 1000;
  await client.close();
  const contextOf = (i: number) => ({ nodeName: targets[i]!.name, node: nodeByName.get(targets[i]!.name), pods: podsByNode.get(targets[i]!.name) ?? [], namespaces });
  // The first sample only gives the second its rates (what a node's previous window left in Redis): not timed.
  const previous = first.map((body, i) => unpackMetricSets(processNode(parseSummary(body, { nodeName: targets[i]!.name }).metricSets, [], contextOf(i), DEFAULT_ENRICH_OPTIONS).rateSample));
  const window = (): void => {
    for (let i = 0; i < targets.length; i++) {
      // processNode packs the rate sample for the next window; what the store keeps is encoded as
      // the pipeline encodes it: the node's sets (packed) and long-term values.
      const result = processNode(parseSummary(second[i]!, { nodeName: targets[i]!.name }).metricSets, previous[i]!, contextOf(i), DEFAULT_ENRICH_OPTIONS);
      encodeNodeFields(targets[i]!.name, result.sets);
      encodeLongTermFields(result.sets);
    }
  };
  // Untimed first, so the timed passes run the code as the JIT settles on it for windows with rates:
  // pass by pass, the same work read slower for the first two or three passes than after.
  for (let pass = 0; pass < LIMIT_WARM_PASSES; pass++) window();
  // The median of a few timed passes: passes over the same summaries vary, now and then one runs slow.
  const passSeconds: number[] = [];
  for (let pass = 0; pass < LIMIT_TIMED_PASSES; pass++) {
    const started = process.cpuUsage();
    window();
    passSeconds.push(cpuMsSince(started) / 1000);
  }
  return {
    limitSeconds: passSeconds.sort((a, b) => a - b)[Math.floor(LIMIT_TIMED_PASSES / 2)]! / targets.length,
    fetchSeconds: fetchSeconds / targets.length,
  };
}

/**
 * Redis's own CPU seconds (`INFO cpu`, its getrusage: microseconds, its children apart). The floor
 * reads it rather than /proc's clock ticks: at a few nodes its rounds cost Redis less than one
 * 10 ms tick, and read as 0.
 */
async function redisCpuSeconds(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return field('used_cpu_sys') + field('used_cpu_user');
}

/** Rounds of no-op scrape jobs the queue floor times, after one untimed round. */
const FLOOR_TIMED_ROUNDS = 3;
/** How the queue floor spreads a round's jobs (ms): delayed, as the scheduler's spread delays them. */
const FLOOR_SPREAD_MS = 2000;

/**
 * The queue's floor: what the scrape jobs cost per node with nothing in them. Rounds of
 * `nodesPerRound` nodes' jobs are added as the scheduler adds a window's (scrapeJobsByShard: a few
 * nodes per job, a bulk per shard, spread delays, the same options) on a prefix of their own, and
 * taken by one worker per shard, `concurrency` jobs in flight in all, whose handler returns at
 * once. CPU seconds per node of this process (the adding and the working side both) and of Redis.
 */
async function measureQueueFloor(redisUrl: string, nodesPerRound: number, concurrency: number): Promise<{ clientSeconds: number; redisSeconds: number }> {
  const { openQueues, startWorker } = await import('../common/queues.js');
  const { scrapeJobsByShard } = await import('../scheduler/scheduler.js');
  const { createLogger } = await import('../common/logger.js');
  const { QUEUE, SCRAPE_SHARDS } = await import('../common/keys.js');
  const keys = redisKeys(`bench-floor-${process.pid}`);
  const logger = createLogger('bench', 'warn');
  const adding = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const working = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queues = openQueues(adding, keys, logger);
  let done = 0;
  let roundDone = (): void => undefined;
  const workers = Array.from({ length: SCRAPE_SHARDS }, (_, shard) =>
    startWorker({
      queue: QUEUE.scrape(shard),
      connection: working,
      keys,
      concurrency: Math.max(1, Math.ceil(concurrency / SCRAPE_SHARDS)),
      lockDurationMs: 30_000,
      logger,
      handle: async (job: ScrapeJob) => {
        done += job.nodes.length;
        if (done === nodesPerRound) roundDone();
        return 'ok';
      },
    }),
  );
  const round = async (index: number): Promise<void> => {
    done = 0;
    const finished = new Promise<void>((resolve) => (roundDone = resolve));
    const windowStartMs = (index + 1) * 60_000;
    const scrapes = Array.from({ length: nodesPerRound }, (_, i) => ({
      target: { nodeName: `node-${String(i).padStart(5, '0')}`, kubeletUrl: `https://127.0.0.1:${10_000 + i}` },
      spreadMs: Math.floor((i / nodesPerRound) * FLOOR_SPREAD_MS),
    }));
    const now = Date.now();
    for (const [shard, jobs] of scrapeJobsByShard(scrapes, { windowStartMs, scrapeAtMs: now, deadlineMs: now + 60_000 }, now, 120)) await queues.scrape(shard).addBulk(jobs);
    await finished;
  };
  try {
    await round(0);
    const started = process.cpuUsage();
    const redisBefore = await redisCpuSeconds(adding);
    for (let index = 1; index <= FLOOR_TIMED_ROUNDS; index++) await round(index);
    const clientSeconds = cpuMsSince(started) / 1000;
    const nodes = FLOOR_TIMED_ROUNDS * nodesPerRound;
    return { clientSeconds: clientSeconds / nodes, redisSeconds: ((await redisCpuSeconds(adding)) - redisBefore) / nodes };
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
    await queues.close();
    adding.disconnect();
    working.disconnect();
  }
}

export interface RedisMemory {
  usedBytes: number;
  byKind: Partial<Record<RedisKeyKind, number>>;
  /** Windows whose full sets are in Redis (staged, or kept by the store). */
  windowSetsKeys: number;
}

/** MEMORY USAGE (exact: SAMPLES 0) of every key of `keys`' prefix, summed by kind; a pipeline per SCAN page. */
async function redisMemoryByKind(client: Redis, keys: RedisKeys): Promise<RedisMemory> {
  const byKind: RedisMemory['byKind'] = {};
  const seen = new Set<string>();
  let windowSetsKeys = 0;
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', keys.allPattern, 'COUNT', 1000);
    cursor = next;
    // SCAN may return a key twice: each is counted once.
    const fresh = found.filter((key) => !seen.has(key));
    for (const key of fresh) seen.add(key);
    if (fresh.length === 0) continue;
    const pipeline = client.pipeline();
    for (const key of fresh) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    const replies = await execOrThrow(pipeline);
    fresh.forEach((key, i) => {
      const kind = keys.kindOf(key);
      byKind[kind] = (byKind[kind] ?? 0) + (Number(replies[i]?.[1]) || 0);
      if (kind === 'window sets') windowSetsKeys++;
    });
  } while (cursor !== '0');
  const usedBytes = Number(/^used_memory:(\d+)/m.exec(await client.info('memory'))?.[1] ?? 0);
  return { usedBytes, byKind, windowSetsKeys };
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const latencyOf = (values: number[]): Latency => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN };
};

/** Each size's directory under the temporary directory: Redis's files (~5 GB at 10,000 nodes) and the simulator's. */
const BENCH_DIR_PREFIX = 'podometer-bench-';
/** In each bench directory: the pid of the bench that made it. */
const BENCH_DIR_OWNER = 'owner.pid';

/**
 * Removes the bench directories whose bench is gone: one stopped by SIGKILL (a CI timeout, the
 * OOM killer) could not remove its own. A directory whose owner still runs, or that names none,
 * is left alone.
 */
function removeAbandonedBenchDirs(): void {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(BENCH_DIR_PREFIX))) {
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, BENCH_DIR_OWNER), 'utf8'));
    } catch {
      continue;
    }
    if (!Number.isInteger(owner) || owner <= 0 || processRuns(owner)) continue;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Does a process with this pid exist (signal 0 checks without sending)? */
function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The idle interval ends this long before the next window's scrape time (its jobs are added then). */
const IDLE_END_BEFORE_SCRAPE_MS = 1000;
/** A shorter idle interval is not measured: /proc counts CPU in 10 ms ticks. */
const IDLE_MIN_MS = 2000;

/**
 * Each process's CPU in ms per second (BenchResult.idle) from when window W (`windowStartMs`) has
 * reached every sink until `untilMs` (the wall clock); undefined if that leaves under IDLE_MIN_MS.
 */
async function measureIdle(client: Redis, keys: RedisKeys, sinks: readonly string[], windowStartMs: number, untilMs: number, pids: readonly { role: string; pid: number }[]): Promise<BenchResult['idle']> {
  const written = async (sink: string): Promise<boolean> => (await client.zrange(keys.sinkWritten(sink), 0, -1)).some((member) => member.startsWith(`${windowStartMs}-`));
  for (const sink of sinks) while (!(await written(sink)) && Date.now() < untilMs) await new Promise((r) => setTimeout(r, 100));
  if (untilMs - Date.now() < IDLE_MIN_MS) return undefined;
  const before = pids.map((p) => cpuTimes(p.pid).own);
  const fromMs = Date.now();
  await new Promise((r) => setTimeout(r, untilMs - fromMs));
  const seconds = (Date.now() - fromMs) / 1000;
  const cpuMsPerSecond: Record<string, number> = {};
  pids.forEach(({ role, pid }, i) => {
    cpuMsPerSecond[role] = (cpuMsPerSecond[role] ?? 0) + ((cpuTimes(pid).own - before[i]!) * 1000) / seconds;
  });
  return { seconds, cpuMsPerSecond };
}

/** The idle pipeline's CPU, ms per second: every role's and Redis's. */
const idleMsPerSecond = (idle: NonNullable<BenchResult['idle']>): number => Object.values(idle.cpuMsPerSecond).reduce((sum, ms) => sum + ms, 0);

/**
 * The idle pipeline's CPU per node-scrape at this size: its CPU over one window, shared by the
 * nodes a measured window processed on average (as the other figures are divided by nodes processed).
 */
const idleMsPerNodeScrape = (result: BenchResult): number | undefined =>
  result.idle && (idleMsPerSecond(result.idle) * result.resolutionMs) / 1000 / (result.nodeScrapes / result.windows);

/** Stops a child with SIGTERM (so a profiled role writes its profile), SIGKILL after 20 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  /** Microseconds on the monotonic clock (the one `process.hrtime` reads on Linux). */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Now on the clock V8's CPU profiles use, in microseconds. */
const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n);

interface ProfileShares {
  /** Functions by self time. */
  self: { share: number; name: string }[];
  /** Podometer's and its packages' functions (dist/, node_modules/) by time counting their callees. */
  inclusive: { share: number; name: string }[];
}

/**
 * The costliest functions in the V8 CPU profiles under `dir`, each as a share of the samples where
 * the process was busy (idle is not a cost); only samples taken between `fromMicros` and
 * `toMicros` count, so start-up and the warm-up windows do not.
 */
function profileShares(dir: string, count: number, fromMicros: number, toMicros: number): ProfileShares {
  const selfHits = new Map<string, number>();
  const inclusiveHits = new Map<string, number>();
  let total = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const names = new Map<number, string>();
    const ours = new Set<number>();
    const parent = new Map<number, number>();
    for (const { id, callFrame, children } of profile.nodes) {
      const { functionName, url, lineNumber } = callFrame;
      const where = url ? ` ${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : '';
      names.set(id, `${functionName || '(anonymous)'}${where}`);
      if (/\/(node_modules|dist)\//.test(url)) ours.add(id);
      for (const child of children ?? []) parent.set(child, id);
    }
    let at = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      at += profile.timeDeltas[i] ?? 0;
      const id = profile.samples[i]!;
      const name = names.get(id)!;
      if (at < fromMicros || at > toMicros || name === '(idle)') continue;
      selfHits.set(name, (selfHits.get(name) ?? 0) + 1);
      total += 1;
      // Each function on the sample's stack once (a recursive one is not counted twice).
      const onStack = new Set<string>();
      for (let frame: number | undefined = id; frame !== undefined; frame = parent.get(frame)) if (ours.has(frame)) onStack.add(names.get(frame)!);
      for (const caller of onStack) inclusiveHits.set(caller, (inclusiveHits.get(caller) ?? 0) + 1);
    }
  }
  const top = (hits: Map<string, number>) => [...hits].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, n]) => ({ share: n / Math.max(1, total), name }));
  return { self: top(selfHits), inclusive: top(inclusiveHits) };
}

async function measureSize(get: ConfigReader, nodes: number): Promise<BenchResult> {
  const windows = get.number('windows');
  const resolutionMs = get.number('resolution');
  const podsPerNode = get.number('pods-per-node');
  const profileDir = get.string('profile');
  const sinks = sinkNames(get.list('sink'));
  removeAbandonedBenchDirs();
  const dir = mkdtempSync(join(tmpdir(), BENCH_DIR_PREFIX));
  writeFileSync(join(dir, BENCH_DIR_OWNER), String(process.pid));
  const children: { role: string; process: ChildProcess; stderrTail: string; stdoutClosed: Promise<void>; gcTrace?: GcTrace }[] = [];
  /** Throws if a role or the simulator has exited: the size cannot be measured. */
  const checkChildren = (): void => {
    const ended = children.find((c) => c.process.exitCode !== null || c.process.signalCode !== null);
    if (ended) throw new Error(`${ended.role} exited (${ended.process.exitCode ?? ended.process.signalCode}): ${lastLines(ended.stderrTail, 3) || 'no message'}`);
  };
  const redis = await LocalRedis.start(join(dir, 'redis'));
  // The simulator binds its kubelets (port 0) before its API server: keep the API port out of their way.
  const apiPort = await freePortBelowEphemeralRange();
  const spawnRole = (role: string, args: string[]): ChildProcess => {
    const index = children.filter((c) => c.role === role).length;
    const profiling = profileDir ? [`--cpu-prof`, `--cpu-prof-dir=${join(profileDir, `${nodes}`, `${role}-${index}`)}`] : [];
    if (profiling.length > 0) mkdirSync(join(profileDir, `${nodes}`, `${role}-${index}`), { recursive: true });
    // The roles print a line per garbage collection on stdout (their logs go to stderr).
    const isRole = role !== 'simulate';
    const nodeFlags = isRole ? [...ROLE_NODE_FLAGS, '--trace-gc-nvp'] : SIMULATOR_NODE_FLAGS;
    const child = spawn(process.execPath, [...nodeFlags, ...profiling, CLI, role, ...args], { stdio: ['ignore', isRole ? 'pipe' : 'ignore', 'pipe'] });
    const gcTrace = isRole ? new GcTrace(monotonicMicros() / 1000) : undefined;
    const stdoutClosed = new Promise<void>((resolve) => (child.stdout ? child.stdout.setEncoding('utf8').on('data', (chunk: string) => gcTrace?.write(chunk)).once('close', resolve) : resolve()));
    const entry = { role, process: child, stderrTail: '', stdoutClosed, ...(gcTrace ? { gcTrace } : {}) };
    // The end of what a role printed, to say why it stopped if it does.
    child.stderr?.on('data', (chunk: Buffer) => (entry.stderrTail = (entry.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS)));
    children.push(entry);
    return child;
  };
  const client = new Redis(redis.url);
  const given = get.optionalString('kubelet-processes');
  const kubeletProcesses = given !== undefined ? Number(given) : kubeletProcessesFor(nodes, get.number('scrapers'), openFileLimit());
  /** Set once the measurement is in and the roles are stopped on purpose. */
  let rolesStopped = false;
  try {
    spawnRole('simulate', ['--nodes', String(nodes), '--pods-per-node', String(podsPerNode), '--containers-per-pod', String(get.number('containers-per-pod')), '--api-port', String(apiPort), '--state-dir', join(dir, 'sim'), `--kubelet-processes=${kubeletProcesses}`]);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    for (let ready = false; !ready; ) {
      ready = await fetch(`${apiUrl}/simulator/stats`).then((r) => r.ok, () => false);
      if (!ready) await new Promise((r) => setTimeout(r, 500));
    }
    const common = [`--redis-url=${redis.url}`, '--log-level=warn', '--metrics-address=127.0.0.1:0'];
    const withSinks = [...common, ...get.list('sink').map((s) => `--sink=${s}`)];
    const source = [`--source=kubernetes.summary_api:${apiUrl}?inClusterConfig=false&kubeletHttps=true`];
    spawnRole('exporter', withSinks);
    for (let i = 0; i < get.number('processors'); i++) spawnRole('processor', withSinks);
    for (let i = 0; i < get.number('scrapers'); i++) spawnRole('scraper', [...common, ...source, `--kubelet-ca-file=${join(dir, 'sim', 'kubelet-ca.crt')}`]);
    spawnRole('scheduler', [...common, ...source, '--kubelet-use-node-status-port', '--kubelet-preferred-address-types=InternalIP', `--metric-resolution=${resolutionMs}ms`]);
    const keys = redisKeys();
    const summaries = async (): Promise<WindowSummary[]> => Object.values(await client.hgetall(keys.storeSummaries)).map((t) => JSON.parse(t) as WindowSummary).sort((a, b) => a.windowStartMs - b.windowStartMs);
    const waitForWindows = async (count: number, after: number): Promise<WindowSummary[]> => {
      const deadline = Date.now() + (count + 3) * resolutionMs + 180_000;
      for (;;) {
        checkChildren();
        const done = (await summaries()).filter((s) => s.windowStartMs > after);
        if (done.length >= count) return done.slice(0, count);
        if (Date.now() > deadline) throw new Error(`only ${done.length} of ${count} windows reached the store in time`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    const simulatorStats = async (): Promise<{ summariesServed: number; bytesServed: number; connectionsAccepted: number }> => (await (await fetch(`${apiUrl}/simulator/stats`)).json()) as { summariesServed: number; bytesServed: number; connectionsAccepted: number };
    const servedBy = kubeletProcesses > 0 ? ` (kubelets in ${kubeletProcesses} simulator processes)` : '';
    console.log(`bench: ${nodes} nodes x ${podsPerNode} pods, ${resolutionMs / 1000} s windows${servedBy}; warming up ...`);
    // Window by window, counting the kubelet connections each opened (TLS handshakes on both sides).
    let warmup: WindowSummary | undefined;
    let warmupWindows = 0;
    let accepted = 0;
    let openedInLastWarmup = 0;
    for (let unscraped = 0; ; ) {
      warmup = (await waitForWindows(1, warmup?.windowStartMs ?? 0))[0]!;
      const nowAccepted = (await simulatorStats()).connectionsAccepted;
      openedInLastWarmup = nowAccepted - accepted;
      accepted = nowAccepted;
      // A window that scraped no node (enqueued before the scheduler's first node list, or whose
      // jobs all started too late while the roles were starting) warms nothing up: not counted.
      if (warmup.okNodes === 0 && ++unscraped < MAX_WARMUP_WINDOWS) continue;
      warmupWindows += 1;
      if (warmupWindows >= MAX_WARMUP_WINDOWS) break;
      if (warmupWindows >= get.number('warmup-windows') && openedInLastWarmup <= WARM_NEW_CONNECTIONS * nodes) break;
    }
    console.log(`warmed up for ${warmupWindows} windows; the last opened ${openedInLastWarmup} kubelet connections`);
    const simulatorPid = children.find((c) => c.role === 'simulate')!.process.pid!;
    const pids = [
      ...children.map((c) => ({ role: c.role, pid: c.process.pid! })),
      ...childPids(simulatorPid).map((pid) => ({ role: 'simulate', pid })),
      ...(redis.pid ? [{ role: 'redis', pid: redis.pid }] : []),
    ];
    // Own CPU only: Redis's rewrites (its ended children) are counted amortized, below.
    const before = new Map(pids.map((p) => [p.pid, cpuTimes(p.pid).own]));
    const redisChildrenBefore = redis.pid ? cpuTimes(redis.pid).children : 0;
    const measuredFromMicros = monotonicMicros();
    const servedBefore = await simulatorStats();
    await client.config('RESETSTAT');
    const measured = await waitForWindows(windows, warmup.windowStartMs);
    const measuredToMicros = monotonicMicros();
    const servedAfter = await simulatorStats();
    const redisCommands = parseCommandStats(await client.info('commandstats'));
    const rewriteRunSeconds = redis.pid ? cpuTimes(redis.pid).children : 0;
    const roles: BenchResult['roles'] = {};
    for (const { role, pid } of pids) {
      const row = (roles[role] ??= { processes: 0, cpuSeconds: 0, peakRssBytes: 0 });
      row.processes += 1;
      row.cpuSeconds += cpuTimes(pid).own - before.get(pid)!;
      row.peakRssBytes += peakRssBytes(pid);
    }
    // When each measured window first reached each sink (a window written again later keeps its first time).
    const latencySeconds: Record<string, Latency> = {};
    for (const sink of sinks) {
      const written = new Map<number, number>();
      for (const member of await client.zrange(keys.sinkWritten(sink), 0, -1)) {
        const [windowStartMs, writtenAtMs] = member.split('-').map(Number) as [number, number];
        if (!written.has(windowStartMs)) written.set(windowStartMs, writtenAtMs);
      }
      latencySeconds[sink] = latencyOf(measured.filter((s) => written.has(s.windowStartMs)).map((s) => (written.get(s.windowStartMs)! - s.scrapeAtMs) / 1000));
    }
    // Per node-scrape = per node processed: at a size the pipeline cannot keep up with, nodes that
    // missed the deadline cost (almost) nothing and must not dilute the figure.
    const scrapes = Math.max(1, measured.reduce((sum, s) => sum + s.okNodes, 0));
    const redisRewriteRun = { seconds: rewriteRunSeconds, nodeScrapes: Math.max(1, servedAfter.summariesServed), inMeasuredWindowsSeconds: rewriteRunSeconds - redisChildrenBefore };
    if (roles.redis) roles.redis.cpuSeconds += (redisRewriteRun.seconds * scrapes) / redisRewriteRun.nodeScrapes;
    const pipelineRoles = Object.keys(roles).filter((r) => r !== 'simulate');
    // Redis's memory is read after the roles' CPU: MEMORY USAGE of a large hash is Redis's CPU too.
    const redisMemory = await redisMemoryByKind(client, keys);
    const lastMeasured = measured[measured.length - 1]!;
    const longTermBytesPerWindow = Number(await client.call('MEMORY', 'USAGE', keys.windowLong(lastMeasured.windowStartMs), 'SAMPLES', '0')) || 0;
    const windowsHeld = (await summaries()).filter((s) => s.okNodes > 0).length;
    const windowsFull = Math.ceil(LONG_RETENTION_MS / resolutionMs);
    const redisFullRetention = {
      windowsFull,
      windowsHeld,
      longTermBytesPerWindow,
      estimatedPeakRssBytes: (roles.redis?.peakRssBytes ?? 0) + Math.max(0, windowsFull - windowsHeld) * longTermBytesPerWindow,
    };
    // After the reads of Redis above (MEMORY USAGE costs Redis CPU), before the roles stop.
    const idle = await measureIdle(client, keys, sinks, lastMeasured.windowStartMs, lastMeasured.scrapeAtMs + resolutionMs - IDLE_END_BEFORE_SCRAPE_MS, pids.filter((p) => p.role !== 'simulate'));
    const total = pipelineRoles.reduce((sum, r) => sum + roles[r]!.cpuSeconds, 0);
    // The roles stop first: the next window's scrapes would otherwise share the cores with the limit.
    rolesStopped = true;
    await Promise.all(children.filter((c) => c.role !== 'simulate').map((c) => stop(c.process)));
    // After the roles stopped: V8's trace lines wait in their stdio buffers until the process exits.
    await Promise.all(children.map((c) => c.stdoutClosed));
    const gc: BenchResult['gc'] = {};
    for (const { role, gcTrace } of children) if (gcTrace) gcTrace.tally(measuredFromMicros / 1000, measuredToMicros / 1000, (gc[role] ??= emptyGcTally()));
    const { limitSeconds, fetchSeconds } = await measureLimit(apiUrl, join(dir, 'sim', 'kubelet-ca.crt'));
    const queueFloor = await measureQueueFloor(redis.url, Math.min(nodes, LIMIT_SAMPLE_NODES), get.number('scrapers') * SCRAPER_CONCURRENCY);
    const floorMs = { queueClient: queueFloor.clientSeconds * 1000, queueRedis: queueFloor.redisSeconds * 1000, fetch: fetchSeconds * 1000 };
    const burstSeconds = measured.reduce((sum, s) => sum + (s.finalizedAtMs - s.scrapeAtMs) / 1000, 0);
    return {
      nodes,
      podsPerNode,
      windows,
      resolutionMs,
      roles,
      gc,
      nodeScrapes: scrapes,
      pipelineCpuMsPerNodeScrape: (total * 1000) / scrapes,
      pipelinePeakRssBytes: pipelineRoles.reduce((sum, r) => sum + roles[r]!.peakRssBytes, 0),
      limitCpuMsPerNodeScrape: limitSeconds * 1000,
      processingCpuMsPerNodeScrape: measured.reduce((sum, s) => sum + (s.processingCpuMs ?? 0), 0) / scrapes,
      floorCpuMsPerNodeScrape: { ...floorMs, total: floorMs.queueClient + floorMs.queueRedis + floorMs.fetch },
      latencySeconds,
      windowsLate: measured.filter((s) => s.finalizedBy !== 'complete').length,
      windowsIncomplete: measured.filter((s) => s.okNodes < s.expectedNodes).length,
      scrapeFailures: measured.reduce((sum, s) => sum + Object.keys(s.failedNodes).length + s.missedNodes.length, 0),
      warmupWindows,
      kubeletConnectionsOpenedInLastWarmup: openedInLastWarmup,
      kubeletConnectionsOpened: servedAfter.connectionsAccepted - servedBefore.connectionsAccepted,
      bytesPerScrape: (servedAfter.bytesServed - servedBefore.bytesServed) / Math.max(1, servedAfter.summariesServed - servedBefore.summariesServed),
      nodeScrapesPerSecond: measured.reduce((sum, s) => sum + s.okNodes, 0) / burstSeconds,
      redisCommands,
      redisRewriteRun,
      redisFullRetention,
      redisMemory,
      idle,
      summaries: measured,
      measuredMicros: [measuredFromMicros, measuredToMicros],
    };
  } catch (error) {
    if (!rolesStopped) checkChildren(); // a role that exited is the reason, not the request to it that failed
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    const simulatorSaid = lastLines(children.find((c) => c.role === 'simulate')?.stderrTail ?? '', 1);
    throw new Error(`${error instanceof Error ? error.message : String(error)}${cause}${simulatorSaid ? `; the simulator said: ${simulatorSaid}` : ''}`);
  } finally {
    await Promise.all(children.filter((c) => c.role !== 'simulate').map((c) => stop(c.process)));
    await Promise.all(children.map((c) => stop(c.process)));
    client.disconnect();
    await redis.stop();
    // Redis's append-only files: ~5 GB at 10,000 nodes, and a curve runs one Redis per size.
    rmSync(dir, { recursive: true, force: true });
  }
}

const fixed = (value: number, digits: number, width: number): string => value.toFixed(digits).padStart(width);

/** A role's CPU per node-scrape (ms) over the measured windows; 0 for a role that did not run. */
const roleMsPerNodeScrape = (result: BenchResult, role: string): number => ((result.roles[role]?.cpuSeconds ?? 0) * 1000) / result.nodeScrapes;

function sizeTable(result: BenchResult, profileDir: string): string {
  const scrapes = result.nodeScrapes;
  const lines = [`\n${'ROLE'.padEnd(12)}${'CPU s'.padStart(10)}${'ms/node-scrape'.padStart(16)}${'peak RSS MiB'.padStart(14)}`];
  for (const [role, row] of Object.entries(result.roles)) {
    lines.push(`${(role === 'simulate' ? 'simulator*' : role).padEnd(12)}${fixed(row.cpuSeconds, 2, 10)}${fixed(roleMsPerNodeScrape(result, role), 3, 16)}${fixed(row.peakRssBytes / MiB, 0, 14)}`);
  }
  const total = (result.pipelineCpuMsPerNodeScrape * scrapes) / 1000;
  lines.push(`${'pipeline'.padEnd(12)}${fixed(total, 2, 10)}${fixed(result.pipelineCpuMsPerNodeScrape, 3, 16)}${fixed(result.pipelinePeakRssBytes / MiB, 0, 14)}   (${(result.pipelinePeakRssBytes / result.nodes / MiB).toFixed(3)} MiB per node)`);
  lines.push(`* the simulator is not part of the pipeline and is not counted in its total; ms/node-scrape is over the ${scrapes} node-scrapes processed (of ${result.nodes * result.windows} expected)`);
  lines.push(`garbage collection over the measured windows (V8's --trace-gc-nvp: the main thread's pauses, part of the role's CPU above, and the heap bytes each collection found allocated since the one before):`);
  for (const [role, tally] of Object.entries(result.gc)) {
    lines.push(`  ${role.padEnd(10)}${fixed((tally.pauseSeconds * 1000) / scrapes, 3, 7)} ms per node-scrape in ${tally.collections} collections (${tally.fullCollections} full); ${fixed(tally.allocatedBytes / 1024 / scrapes, 0, 5)} KiB allocated and ${fixed(tally.promotedBytes / 1024 / scrapes, 0, 4)} KiB promoted to the old generation per node-scrape`);
  }
  lines.push(`the limit (parse, process, encode in one tight loop, no queues): ${result.limitCpuMsPerNodeScrape.toFixed(3)} ms per node-scrape; the pipeline is ${(result.pipelineCpuMsPerNodeScrape / result.limitCpuMsPerNodeScrape).toFixed(1)}x that`);
  const processing = result.processingCpuMsPerNodeScrape;
  const scraperMs = roleMsPerNodeScrape(result, 'scraper');
  lines.push(`processing in the scrapers (each node's parse, process and encode step, CPU read around it): ${processing.toFixed(3)} ms per node-scrape, ${(processing / result.limitCpuMsPerNodeScrape).toFixed(1)}x the limit; the scrapers' other ${(scraperMs - processing).toFixed(3)} ms went to fetching, queues and Redis I/O`);
  const floor = result.floorCpuMsPerNodeScrape;
  lines.push(`the floor (before any parsing: the nodes' no-op scrape jobs and the summary fetched over a kept TLS connection): ${floor.total.toFixed(3)} ms per node-scrape (the jobs ${floor.queueClient.toFixed(3)} ms in the process that adds and takes them and ${floor.queueRedis.toFixed(3)} ms in Redis; the fetch ${floor.fetch.toFixed(3)} ms); floor + limit ${(floor.total + result.limitCpuMsPerNodeScrape).toFixed(3)} ms`);
  for (const [sink, l] of Object.entries(result.latencySeconds)) lines.push(`window latency (scrape time to written to ${sink}): p50 ${l.p50.toFixed(1)} s, p99 ${l.p99.toFixed(1)} s, max ${l.max.toFixed(1)} s`);
  lines.push(`windows: ${result.windows} measured, ${result.windowsLate} finalized at the deadline (late), ${result.windowsIncomplete} incomplete; scrape failures ${result.scrapeFailures}`);
  lines.push(`scraped ${(result.bytesPerScrape / 1024).toFixed(1)} KiB per node; ${result.nodeScrapesPerSecond.toFixed(0)} node-scrapes (scraped and processed) per second while a window is in flight, in scrape jobs of up to ${NODES_PER_SCRAPE_JOB} nodes`);
  const rewrites = result.redisRewriteRun;
  const full = result.redisFullRetention;
  const mib = (bytes: number): string => (bytes / MiB).toFixed(0);
  lines.push(`redis at the store's full long-term retention (${full.windowsFull} windows of long-term values; the run held ${full.windowsHeld}): ~${mib(full.estimatedPeakRssBytes)} MiB estimated (peak ${mib(result.roles.redis?.peakRssBytes ?? 0)} MiB + ${mib(full.longTermBytesPerWindow)} MiB of long-term values per window to come), ${(full.estimatedPeakRssBytes / MiB / result.nodes).toFixed(3)} MiB per node for Redis alone`);
  const memory = result.redisMemory;
  const kinds = Object.entries(memory.byKind).sort((a, b) => b[1] - a[1]);
  lines.push(`redis memory once the measured windows were in (MEMORY USAGE of every key, by kind; used_memory ${mib(memory.usedBytes)} MiB): ${kinds.map(([kind, bytes]) => `${kind} ${mib(bytes)} MiB${kind === 'window sets' ? ` (${memory.windowSetsKeys} windows)` : ''}`).join(', ')}`);
  lines.push(`redis append-only-file rewrites: ${rewrites.seconds.toFixed(2)} s CPU over the run's ${rewrites.nodeScrapes} node-scrapes, so ${((rewrites.seconds * 1000) / rewrites.nodeScrapes).toFixed(3)} ms per node-scrape in the redis row (${rewrites.inMeasuredWindowsSeconds.toFixed(2)} s fell in the measured windows)`);
  lines.push(`kubelet connections opened: ${result.kubeletConnectionsOpened} (each a TLS handshake on both sides; the rest of the scrapes reused a kept connection)`);
  const idle = result.idle;
  if (idle) {
    const byRole = Object.entries(idle.cpuMsPerSecond).map(([role, ms]) => `${role} ${ms.toFixed(2)}`).join(', ');
    lines.push(`idle between windows (${idle.seconds.toFixed(0)} s, after the last measured window reached every sink): ${idleMsPerSecond(idle).toFixed(2)} ms of CPU a second (${byRole}); over a window, ${idleMsPerNodeScrape(result)!.toFixed(3)} ms of each node-scrape's total at this size`);
  } else lines.push(`idle between windows: not measured (under ${IDLE_MIN_MS / 1000} s between the last window reaching every sink and the next window's scrapes)`);
  if (profileDir) {
    lines.push(`profiled run: the V8 profiler's sampling costs every role CPU of its own; take CPU figures from a run without --profile`);
    lines.push(`redis commands (Redis's own time over the measured windows):`);
    for (const { command, calls, seconds } of result.redisCommands.slice(0, 8)) lines.push(`  ${fixed(seconds, 2, 7)} s  ${String(calls).padStart(8)} calls  ${command}`);
    for (const role of Object.keys(result.roles).filter((r) => r !== 'redis')) {
      const roleDirs = readdirSync(join(profileDir, String(result.nodes))).filter((d) => d.startsWith(`${role}-`));
      for (const roleDir of roleDirs) {
        const shares = profileShares(join(profileDir, String(result.nodes), roleDir), 10, ...result.measuredMicros);
        lines.push(`profile ${roleDir} (self time, share of its busy samples over the measured windows):`);
        for (const { share, name } of shares.self) lines.push(`  ${fixed(share * 100, 1, 5)}%  ${name}`);
        lines.push(`profile ${roleDir} (counting callees; Podometer's and its packages' functions):`);
        for (const { share, name } of shares.inclusive) lines.push(`  ${fixed(share * 100, 1, 5)}%  ${name}`);
      }
    }
  }
  return lines.join('\n');
}

function curveLine(result: BenchResult): string {
  const store = result.latencySeconds['store']!;
  return [
    String(result.nodes).padStart(7),
    fixed(result.pipelineCpuMsPerNodeScrape, 2, 8),
    idleMsPerNodeScrape(result)?.toFixed(2).padStart(7) ?? '      -',
    ...['scraper', 'processor', 'exporter', 'redis', 'scheduler'].map((r) => fixed(roleMsPerNodeScrape(result, r), 2, 7)),
    fixed(result.processingCpuMsPerNodeScrape, 2, 7),
    fixed(gcTotal(result).pauseMs, 2, 7),
    fixed(result.limitCpuMsPerNodeScrape, 2, 7),
    fixed(result.pipelineCpuMsPerNodeScrape / result.limitCpuMsPerNodeScrape, 1, 6),
    fixed(result.floorCpuMsPerNodeScrape.total, 2, 7),
    fixed(result.pipelinePeakRssBytes / result.nodes / MiB, 3, 9),
    fixed(gcTotal(result).allocatedKiB, 0, 7),
    `${fixed(store.p50, 1, 6)}${fixed(store.p99, 1, 6)}${fixed(store.max, 1, 6)}`,
    `${String(result.windowsLate).padStart(5)}${String(result.windowsIncomplete).padStart(5)}`,
  ].join('');
}

/** All roles' garbage collection per node-scrape: main-thread pauses (ms) and KiB allocated. */
function gcTotal(result: BenchResult): { pauseMs: number; allocatedKiB: number } {
  const tallies = Object.values(result.gc);
  return {
    pauseMs: (tallies.reduce((sum, t) => sum + t.pauseSeconds, 0) * 1000) / result.nodeScrapes,
    allocatedKiB: tallies.reduce((sum, t) => sum + t.allocatedBytes, 0) / 1024 / result.nodeScrapes,
  };
}

const CURVE_HEADER = `${'nodes'.padStart(7)}${'total'.padStart(8)}${'idle'.padStart(7)}${'scrap'.padStart(7)}${'proc'.padStart(7)}${'export'.padStart(7)}${'redis'.padStart(7)}${'sched'.padStart(7)}${'work'.padStart(7)}${'gc'.padStart(7)}${'limit'.padStart(7)}${'xlim'.padStart(6)}${'floor'.padStart(7)}${'MiB/node'.padStart(9)}${'alloc'.padStart(7)}${'p50'.padStart(6)}${'p99'.padStart(6)}${'max'.padStart(6)}${'late'.padStart(5)}${'inc'.padStart(5)}
${''.padStart(7)}${'(ms CPU per node-scrape)'.padStart(64)}${''.padStart(28)}${'(s to store)'.padStart(18)}`;

export async function runBench(argv: readonly string[]): Promise<number> {
  const config = loadRoleConfig(BENCH_OPTIONS, argv, BENCH_HELP);
  if (!config) return 0;
  const { get } = config;
  const sizes = get.list('curve').length > 0 ? get.list('curve').map(Number) : [get.number('nodes')];
  const results: BenchResult[] = [];
  const lines: string[] = [];
  let failed = 0;
  for (const nodes of sizes) {
    try {
      const result = await measureSize(get, nodes);
      results.push(result);
      lines.push(curveLine(result));
      console.log(sizeTable(result, get.string('profile')));
    } catch (error) {
      // A size that cannot be measured is reported, and the curve goes on with the next one.
      failed++;
      const message = error instanceof Error ? error.message : String(error);
      lines.push(`${String(nodes).padStart(7)}  not measured: ${message}`);
      console.log(`\n${nodes} nodes: not measured: ${message}`);
    }
  }
  if (sizes.length > 1) {
    console.log(`\nscale curve (${get.number('pods-per-node')} pods per node, ${get.number('resolution') / 1000} s windows, ${get.number('windows')} windows each):\n${CURVE_HEADER}\n${lines.join('\n')}`);
  }
  const json = get.string('json');
  if (json) writeFileSync(json, JSON.stringify(results.length === 1 && sizes.length === 1 ? results[0] : results, null, 2));
  return failed > 0 ? 1 : 0;
}
