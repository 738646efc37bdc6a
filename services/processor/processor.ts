/**
 * The processor's Redis side: `processScrape` loads a node's context and previous sample, runs
 * `processNode` and stages the result for its window; `finalizeWindow` rolls a window up and hands
 * it to the sinks. Idempotent by construction: staging writes a node's hash fields (a retried scrape
 * overwrites, never adds), the rate state keeps samples by window so a retry of window W still
 * computes against W's predecessor, and the finalizer only overwrites and adds jobs with
 * deterministic ids.
 *
 * `processScrape` runs in the scrape job that fetched the summary (the scraper role), not in a job
 * of its own. Handing each node to a second queue cost, by the profiles, about 1-1.5 ms of CPU
 * per node-scrape: BullMQ's scripts for a second job (~0.45 ms of Redis), the 58 KB summary
 * written to Redis, read back, deleted and carried through the AOF, and both clients' side of it.
 * It bought nothing: a node's processing needs only Redis state, so it scales out with the
 * scrapers. The processor role finalizes windows.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { unpackMetricSets } from '../common/batch-codec.js';
import { cpuMsSince } from '../common/cpu.js';
import { stageMetricSets, stageNodeSets } from '../common/staging.js';
import { parseSummary, SummaryParseError } from '../common/summary-parser.js';
import type { NamespaceMeta, NodeMeta, NodeRecord, PodMeta, ScrapedNode, WindowManifest, WindowSummary } from '../common/jobs.js';
import { JOB_ID, type RedisKeys } from '../common/keys.js';
import type { Logger } from '../common/logger.js';
import type { MetricSet } from '../common/metric-set.js';
import type { PipelineQueues } from '../common/queues.js';
import { execOrThrow } from '../common/redis.js';
import { rollUp, type NodePartial } from './aggregate.js';
import type { EnrichOptions } from './enrich.js';
import { podsNotListed, processNode, withoutPods } from './process-node.js';

/** The pipeline's Redis state, as both processing and finalizing use it. */
export interface PipelineStateDeps {
  redis: Redis;
  keys: RedisKeys;
  queues: PipelineQueues;
  /** How long staged windows and rate samples are kept. */
  stagingTtlMs: number;
  logger: Logger;
}

/** What processing a node's scrape needs. */
export interface NodeProcessingDeps extends PipelineStateDeps {
  enrich: EnrichOptions;
}

/** What finalizing a window needs. */
export interface FinalizeDeps extends PipelineStateDeps {
  /** Sinks every finalized window is exported to (queue `export-<sink>` each). */
  sinks: readonly string[];
  /** Attempts per export job, and the most windows one sink may have waiting. */
  sinkRetry: { attempts: number; backlog: number };
  now?: () => number;
}

/** Rate samples kept per node: the two newest windows (a retry of the newest still finds its predecessor). */
const RATE_SAMPLES_KEPT = 2;

/**
 * A window's manifest never changes once written, and every node job of the window needs it: each
 * process keeps the newest few. (Reading it per job cost O(nodes) per job: a 10,000-node manifest
 * is ~200 KB of node names.)
 */
const MANIFESTS_KEPT = 4;
const manifestCache = new WeakMap<RedisKeys, Map<number, WindowManifest>>();

async function readManifest(deps: PipelineStateDeps, windowStartMs: number): Promise<WindowManifest | undefined> {
  let cached = manifestCache.get(deps.keys);
  if (!cached) manifestCache.set(deps.keys, (cached = new Map()));
  const known = cached.get(windowStartMs);
  if (known) return known;
  const text = await deps.redis.get(deps.keys.windowManifest(windowStartMs));
  if (!text) return undefined;
  const manifest = JSON.parse(text) as WindowManifest;
  cached.set(windowStartMs, manifest);
  for (const windowKept of [...cached.keys()].sort((a, b) => b - a).slice(MANIFESTS_KEPT)) cached.delete(windowKept);
  return manifest;
}

/** Namespaces change rarely and every node job reads them: read Redis at most once a second per process. */
const NAMESPACES_FRESH_MS = 1000;
const namespaceCache = new WeakMap<RedisKeys, { readAtMs: number; namespaces: Promise<Map<string, NamespaceMeta>> }>();

function readNamespaces(deps: PipelineStateDeps): Promise<Map<string, NamespaceMeta>> {
  const cached = namespaceCache.get(deps.keys);
  const now = Date.now();
  if (cached && now - cached.readAtMs < NAMESPACES_FRESH_MS) return cached.namespaces;
  const namespaces = deps.redis.hgetall(deps.keys.namespaceMeta).then((all) => new Map(Object.entries(all).map(([name, text]) => [name, JSON.parse(text) as NamespaceMeta])));
  namespaceCache.set(deps.keys, { readAtMs: now, namespaces });
  namespaces.catch(() => namespaceCache.delete(deps.keys));
  return namespaces;
}

/** The newest of `windows` before `windowStartMs`: the window whose sample gives W its rates. */
const predecessorOf = (windows: readonly number[], windowStartMs: number): number | undefined =>
  windows.reduce<number | undefined>((newest, w) => (w < windowStartMs && (newest === undefined || w > newest) ? w : newest), undefined);

/**
 * What processing reads from Redis before it parses: whether the window is final, the node's
 * metadata, pods and previous rate sample. The rate state's windows are read (HKEYS) with the
 * sample of the window just before W (HGET; its start is W minus the window's length), not every
 * kept sample: only a node that missed a window (or a resolution change) needs a second read.
 */
async function readNodeState(deps: NodeProcessingDeps, nodeName: string, windowStartMs: number, withContext: boolean) {
  const { redis, keys } = deps;
  const [manifest, namespaces] = await Promise.all([readManifest(deps, windowStartMs), readNamespaces(deps)]);
  const guessedPrevious = manifest ? windowStartMs - (manifest.windowEndMs - manifest.windowStartMs) : undefined;
  // One pipeline: one write and one reply batch instead of a round trip per command.
  const reads = redis.pipeline().exists(keys.windowSummary(windowStartMs));
  if (withContext) {
    reads.get(keys.podsOnNode(nodeName)).hget(keys.nodeMeta, nodeName).hkeys(keys.rateState(nodeName));
    if (guessedPrevious !== undefined) reads.hgetBuffer(keys.rateState(nodeName), String(guessedPrevious));
  }
  const replies = await reads.exec();
  const reply = <T>(i: number): T => {
    const [error, value] = replies?.[i] ?? [new Error('no reply')];
    if (error) throw error;
    return value as T;
  };
  const finalized = reply<number>(0) > 0;
  if (!withContext) return { manifest, finalized, context: undefined };
  const rateWindows = reply<string[]>(3).map(Number);
  const previousWindow = predecessorOf(rateWindows, windowStartMs);
  let previousSample: Buffer | null = null;
  if (previousWindow !== undefined) previousSample = previousWindow === guessedPrevious ? reply<Buffer | null>(4) : await redis.hgetBuffer(keys.rateState(nodeName), String(previousWindow));
  const context = { podsText: reply<string | null>(1), nodeText: reply<string | null>(2), rateWindows, previousSample, namespaces };
  return { manifest, finalized, context };
}

type NodeState = Awaited<ReturnType<typeof readNodeState>>;

/**
 * Processes one node's scrape of one window (its summary, or why there is none). Returns what it
 * recorded for the node. Everything is read from Redis first, so the summary is parsed, processed
 * and encoded without an await in between (but for the rare lookup in `parseAndProcess`): a local
 * of an async function stays reachable across every later await (V8 keeps the suspended
 * function's whole register file, dead values included), so the parsed summary and its metric
 * sets must not be locals here, or they are held through the staging round trip and promoted to
 * the old generation.
 */
export async function processScrape(scraped: ScrapedNode, deps: NodeProcessingDeps): Promise<NodeRecord> {
  const { keys } = deps;
  const { windowStartMs, nodeName } = scraped;
  let state: NodeState | undefined = await readNodeState(deps, nodeName, windowStartMs, scraped.outcome.status === 'ok');
  const { manifest, finalized } = state;
  const staging = deps.redis.multi();
  const record = await parseAndProcess(scraped, state, staging, deps);
  state = undefined; // nor the node's pods and rate samples (~30 KB of strings)
  if (finalized) {
    deps.logger.warn('node arrived after its window was finalized; not counted', { windowStartMs, nodeName });
    await execOrThrow(staging);
    return record;
  }
  const outcomes = keys.windowOutcomes(windowStartMs);
  staging.hset(outcomes, nodeName, JSON.stringify(record));
  for (const key of [keys.windowPartials(windowStartMs), outcomes]) staging.pexpire(key, deps.stagingTtlMs);
  staging.hlen(outcomes);
  const replies = await execOrThrow(staging);
  const done = Number(replies[replies.length - 1]?.[1] ?? 0);
  if (manifest && done >= manifest.expectedNodes.length) await promoteFinalize(deps, windowStartMs);
  return record;
}

/**
 * Parses, processes and encodes one scrape, queueing its staging writes on `staging`. Its own
 * async function, so that the parsed summary is a local of a frame that is gone before the
 * staging round trip. It awaits only for a summary reporting pods the API server does not list on
 * the node (one HMGET of where they are bound).
 */
async function parseAndProcess(scraped: ScrapedNode, state: NodeState, staging: ChainableCommander, deps: NodeProcessingDeps): Promise<NodeRecord> {
  let cpuBefore = process.cpuUsage();
  const parsed = parseScrape(scraped, state, deps);
  const parseCpuMs = cpuMsSince(cpuBefore);
  let boundElsewhere: Record<string, string> = {};
  if (parsed.unlistedPods.length > 0) {
    // Pods on no node (deleted, or not yet published) stay counted here.
    const boundTo = await deps.redis.hmget(deps.keys.podNodes, ...parsed.unlistedPods);
    boundElsewhere = Object.fromEntries(parsed.unlistedPods.flatMap((pod, i) => (boundTo[i] && boundTo[i] !== scraped.nodeName ? [[pod, boundTo[i]!]] : [])));
  }
  cpuBefore = process.cpuUsage();
  const record = processAndStage(scraped, parsed, state, staging, deps, boundElsewhere);
  if (record.metricSets !== undefined) record.processingCpuMs = parseCpuMs + cpuMsSince(cpuBefore);
  return record;
}

/** A node's summary parsed, with the node's pods as the API server lists them. */
interface ParsedScrape {
  /** The outcome, or `bad_summary` if the summary did not parse. */
  record: NodeRecord;
  /** The summary's sets; none if it failed or did not parse. */
  sets: MetricSet[] | undefined;
  pods: PodMeta[];
  /** Pods (`namespace/name`) in the summary that the API server does not list on this node. */
  unlistedPods: string[];
}

/** Parses the scrape's summary (no await) and hands its buffer back. */
function parseScrape(scraped: ScrapedNode, { context }: NodeState, deps: NodeProcessingDeps): ParsedScrape {
  const { windowStartMs, nodeName, outcome } = scraped;
  const parsed: ParsedScrape = { record: outcome, sets: undefined, pods: [], unlistedPods: [] };
  if (outcome.status !== 'ok') return parsed;
  if (scraped.body === undefined) throw new Error(`scrape of ${nodeName} is ok but carries no summary`);
  try {
    parsed.sets = parseSummary(scraped.body, { nodeName, receivedAtMs: outcome.receivedAtMs, checked: true }).metricSets;
  } catch (error) {
    if (!(error instanceof SummaryParseError)) throw error;
    parsed.record = { status: 'failed', reason: 'bad_summary', message: error.message, durationMs: outcome.durationMs };
    deps.logger.warn('kubelet summary rejected', { node: nodeName, windowStartMs, error: error.message });
  } finally {
    // Parsed (into strings and numbers of its own) or rejected: the body is read no more. Its
    // buffer goes back for the next fetch; the callers' frames hold `scraped` through their Redis
    // round trips, so the reference is dropped too.
    scraped.body = undefined;
    scraped.releaseBody?.();
  }
  if (parsed.sets !== undefined && context !== undefined) {
    parsed.pods = context.podsText ? (JSON.parse(context.podsText) as PodMeta[]) : [];
    parsed.unlistedPods = podsNotListed(parsed.sets, parsed.pods);
  }
  return parsed;
}

/**
 * Processes and encodes a parsed scrape (no await), queueing its staging writes on `staging`;
 * returns the node's record. `boundElsewhere`: pods (`namespace/name`) the API server binds to
 * another node (-> that node), left out.
 */
function processAndStage(scraped: ScrapedNode, parsed: ParsedScrape, { finalized, context }: NodeState, staging: ChainableCommander, deps: NodeProcessingDeps, boundElsewhere: Record<string, string>): NodeRecord {
  const { keys } = deps;
  const { windowStartMs, nodeName, outcome } = scraped;
  let { record, sets } = parsed;
  if (sets !== undefined && context !== undefined) {
    const { nodeText, rateWindows, previousSample, namespaces } = context;
    const leftOut = Object.keys(boundElsewhere);
    if (leftOut.length > 0) {
      sets = withoutPods(sets, new Set(leftOut));
      deps.logger.warn('kubelet reports pods the API server binds to another node; not counted from this node', { node: nodeName, windowStartMs, pods: boundElsewhere });
    }
    const previous = previousSample === null ? [] : unpackMetricSets(previousSample);
    const result = processNode(sets, previous, {
      nodeName,
      node: nodeText ? (JSON.parse(nodeText) as NodeMeta) : undefined,
      pods: parsed.pods,
      namespaces,
    }, deps.enrich);
    record = { ...outcome, metricSets: result.sets.length, rateSkips: result.skipped };
    if (leftOut.length > 0) record.podsBoundElsewhere = boundElsewhere;
    const stale = rateWindows.filter((w) => w !== windowStartMs).sort((a, b) => b - a).slice(RATE_SAMPLES_KEPT - 1);
    // Packed: ~11 KB of JSON at 30 pods, ~2.7 KB packed (two are kept per node).
    staging.hset(keys.rateState(nodeName), String(windowStartMs), result.rateSample);
    if (stale.length > 0) staging.hdel(keys.rateState(nodeName), ...stale.map(String));
    staging.pexpire(keys.rateState(nodeName), deps.stagingTtlMs);
    if (!finalized) {
      stageNodeSets(staging, keys, windowStartMs, nodeName, result.sets, deps.stagingTtlMs);
      staging.hset(keys.windowPartials(windowStartMs), nodeName, JSON.stringify(result.partial));
    }
  }
  return record;
}

/** Runs window W's finalize job now instead of at its deadline. */
async function promoteFinalize(deps: PipelineStateDeps, windowStartMs: number): Promise<void> {
  const job = await deps.queues.finalize.getJob(JOB_ID.finalize(windowStartMs));
  if (!job) return;
  try {
    await job.promote();
  } catch {
    // Not delayed any more: already promoted by another processor, or running.
  }
}

/**
 * KEYS: summary, exports; ARGV: the summary JSON, its TTL (ms), the sinks that must write the
 * window. Writes the summary and names the sinks in one step, unless the window already has a
 * summary (a finalization ran before): each exporter removes its sink from `exports` and the last
 * one frees the staged window, so a window with a summary but no `exports` would be freed by the
 * first sink to finish. The set is written first: a refused write leaves no summary either.
 * Returns 1 for the first finalization.
 */
const FINALIZE_ONCE = `if redis.call('exists', KEYS[1]) == 1 then return 0 end
if #ARGV > 2 then
  redis.call('sadd', KEYS[2], unpack(ARGV, 3))
  redis.call('pexpire', KEYS[2], ARGV[2])
end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** Handles one `finalize` job: roll-ups, the window summary, one export job per sink. */
export async function finalizeWindow(windowStartMs: number, deps: FinalizeDeps): Promise<WindowSummary | undefined> {
  const { redis, keys } = deps;
  const manifest = await readManifest(deps, windowStartMs);
  if (!manifest) {
    deps.logger.warn('finalize: the window has no manifest (expired?)', { windowStartMs });
    return undefined;
  }
  const [outcomeTexts, partialTexts, namespaces] = await Promise.all([
    redis.hgetall(keys.windowOutcomes(windowStartMs)),
    redis.hgetall(keys.windowPartials(windowStartMs)),
    readNamespaces(deps),
  ]);
  const outcomes = new Map(Object.entries(outcomeTexts).map(([node, text]) => [node, JSON.parse(text) as NodeRecord]));
  const partials = Object.values(partialTexts).map((text) => JSON.parse(text) as NodePartial);
  const rollups = rollUp(partials, namespaces, manifest.windowEndMs);
  const failedNodes: Record<string, string> = {};
  const rateSkips: Record<string, number> = {};
  let okNodes = 0;
  let metricSets = rollups.length;
  let processingCpuMs = 0;
  let podsBoundElsewhere = 0;
  for (const [node, record] of outcomes) {
    podsBoundElsewhere += Object.keys(record.podsBoundElsewhere ?? {}).length;
    if (record.status === 'ok') okNodes++;
    else failedNodes[node] = `${record.reason}: ${record.message}`;
    metricSets += record.metricSets ?? 0;
    processingCpuMs += record.processingCpuMs ?? 0;
    for (const [reason, count] of Object.entries(record.rateSkips ?? {})) rateSkips[reason] = (rateSkips[reason] ?? 0) + count;
  }
  const now = (deps.now ?? Date.now)();
  const summary: WindowSummary = {
    windowStartMs,
    windowEndMs: manifest.windowEndMs,
    scrapeAtMs: manifest.scrapeAtMs,
    expectedNodes: manifest.expectedNodes.length,
    okNodes,
    failedNodes,
    missedNodes: manifest.expectedNodes.filter((n) => !outcomes.has(n)),
    finalizedBy: manifest.expectedNodes.every((n) => outcomes.has(n)) ? 'complete' : 'deadline',
    finalizedAtMs: now,
    metricSets,
    rateSkips,
    processingCpuMs: Math.round(processingCpuMs * 1000) / 1000,
  };
  if (podsBoundElsewhere > 0) summary.podsBoundElsewhere = podsBoundElsewhere;
  // A sink whose backlog is full (down for long) does not get this window; the drop is counted.
  const accepting: string[] = [];
  const full: { sink: string; waiting: number }[] = [];
  for (const sink of deps.sinks) {
    const waiting = await deps.queues.export(sink).getJobCountByTypes('waiting', 'delayed', 'prioritized');
    if (waiting >= deps.sinkRetry.backlog) full.push({ sink, waiting });
    else accepting.push(sink);
  }
  const finalizing = redis.multi();
  finalizing.eval(FINALIZE_ONCE, 2, keys.windowSummary(windowStartMs), keys.windowExports(windowStartMs), JSON.stringify(summary), deps.stagingTtlMs, ...accepting);
  stageMetricSets(finalizing, keys, windowStartMs, rollups, deps.stagingTtlMs);
  const replies = await execOrThrow(finalizing);
  const first = replies[0]?.[1] === 1;
  const stored = first ? summary : (JSON.parse((await redis.get(keys.windowSummary(windowStartMs))) ?? JSON.stringify(summary)) as WindowSummary);
  if (first) {
    for (const { sink, waiting } of full) {
      await redis.hincrby(keys.sinkStats(sink), 'windows_dropped', 1);
      deps.logger.warn('sink backlog full; window dropped for this sink', { sink, windowStartMs, waiting });
    }
  }
  // A finalization after the first (a retry of one that failed past its summary) adds the jobs of
  // the sinks the first one named that have not written the window yet; ids make adding twice a no-op.
  const exporting = first ? accepting : await redis.smembers(keys.windowExports(windowStartMs));
  for (const sink of exporting) {
    await deps.queues.export(sink).add('export', { windowStartMs }, { jobId: JOB_ID.export(sink, windowStartMs), attempts: deps.sinkRetry.attempts, backoff: { type: 'custom' } });
  }
  if (first) {
    deps.logger.info('window finalized', { windowStartMs, by: summary.finalizedBy, ok: okNodes, failed: Object.keys(failedNodes).length, missed: summary.missedNodes.length, latencyMs: now - manifest.scrapeAtMs });
  }
  return stored;
}
