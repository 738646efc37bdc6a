/**
 * Every queue name, job id and Redis key Podometer uses, built in one place. No service spells a
 * key or queue name by hand. Ids never contain `:` (BullMQ reserves it), so node names (DNS
 * subdomains) and window start times (ms since epoch) are joined with `-`.
 *
 * Layout under the prefix P (default `podometer`):
 *   P:q:<queue>:...                 BullMQ's own keys (its prefix is `P:q`)
 *   P:meta:nodes                    hash node name -> NodeMeta JSON (scheduler writes)
 *   P:meta:namespaces               hash namespace -> NamespaceMeta JSON
 *   P:meta:pods:<node>              string: PodMeta[] JSON of the pods bound to that node
 *   P:meta:pod-nodes                hash namespace/name -> the node the pod is bound to
 *   P:window:<W>:manifest           string: WindowManifest JSON (W = window start, ms)
 *   P:window:<W>:sets               hash metric-set key -> metric set JSON: staged for the sinks, and
 *                                   the short-term store's full window once the store lists W
 *   P:window:<W>:long               hash pod or node key (longTermFieldOf) -> its sets' "cpu/usage_rate|
 *                                   memory/usage" (the store's long-term values of W; batch-codec.ts)
 *   P:window:<W>:outcomes           hash node -> NodeOutcome JSON (ok or failed, with the reason)
 *   P:window:<W>:partials           hash node -> that node's namespace/cluster partial sums
 *   P:window:<W>:summary            string: WindowSummary JSON, written when the window finalizes
 *   P:window:<W>:exports            set of sinks that have yet to write the window; when it empties
 *                                   the partials are deleted, and the sets and long values too
 *                                   unless the store keeps them (then they expire when :kept says)
 *   P:window:<W>:kept               hash "sets"|"long" -> ms since epoch until which the store keeps them
 *   P:rate:<node>                   hash W -> rate sample of the node's sets at window W
 *   P:scheduler:lease               string: the scheduler replica that enqueues (PX-expiring)
 *   P:scrapers                      sorted set of live scraper ids by their last heartbeat (ms): who
 *                                   works which scrape shard (scraper/shards.ts)
 *   P:scheduler:last-window         string: the manifest of the newest window enqueued (for /livez)
 *   P:store:windows                 sorted set of the window starts the store holds (score = W)
 *   P:store:summaries               hash W -> WindowSummary JSON
 *   P:sink:<name>:stats             hash counter -> value (points written, rejected, windows dropped)
 *   P:sink:<name>:written           sorted set "<W>-<writtenAtMs>" by W: when each window reached the
 *                                   sink (the newest 1000; for latency figures and `podometer bench`)
 *   P:events:resource-version       string: the eventer resumes its watch from here
 *   P:events:delivered              hash event uid -> "count|lastTimestampMs" last handed to the sinks
 *   P:events:seen                   sorted set event uid by lastTimestampMs (to trim `delivered`)
 */

export const DEFAULT_REDIS_PREFIX = 'podometer';

/**
 * Scrape jobs are spread over this many queues (`scrape-<shard>`), a node always to the same one
 * (`scrapeShardOf`), and each scraper works the shards it holds (scraper/shards.ts). So a node is
 * scraped by the same scraper window after window, and each scraper keeps a connection to its
 * share of the kubelets only: a kept TLS connection costs a scraper ~51 KiB of RSS after a full
 * garbage collection and ~0.11 MiB of its peak (the bench's curves), and with one queue
 * every scraper came to hold one to every kubelet. Fixed, so that every version's scheduler and
 * scrapers agree; more scrapers than shards would leave some idle.
 */
export const SCRAPE_SHARDS = 16;

/** The scrape queue shard of a node: FNV-1a of its name, mod SCRAPE_SHARDS. */
export function scrapeShardOf(nodeName: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < nodeName.length; i++) hash = Math.imul(hash ^ nodeName.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % SCRAPE_SHARDS;
}

/** Queue names. Each sink has its own export queue so that one slow sink holds up no other. */
export const QUEUE = {
  scrape: (shard: number): string => `scrape-${shard}`,
  /** What a queue's name says it holds: `scrape` for every scrape shard, else the name itself (self-metrics' label). */
  familyOf: (queueName: string): string => (/^scrape-\d+$/.test(queueName) ? 'scrape' : queueName),
  finalize: 'finalize',
  export: (sink: string): string => `export-${sink}`,
} as const;

/** Deterministic job ids: a retried or duplicated enqueue of the same work is the same job. */
export const JOB_ID = {
  /** A scrape job, named by its first node (a node is in one scrape job per window). */
  scrape: (nodeName: string, windowStartMs: number): string => `scrape-${nodeName}-${windowStartMs}`,
  finalize: (windowStartMs: number): string => `finalize-${windowStartMs}`,
  export: (sink: string, windowStartMs: number): string => `export-${sink}-${windowStartMs}`,
  /** A batch of events for one sink, named by a hash of its events' uids and counts. */
  events: (sink: string, batchHash: string): string => `events-${sink}-${batchHash}`,
} as const;

/** What a Redis key holds, by the builder that made it (for memory reports). */
export type RedisKeyKind = 'window sets' | 'long-term values' | 'window bookkeeping' | 'rate samples' | 'metadata' | 'queues' | 'other';

/** Redis key builders for one prefix. */
/** A pod's field in `podNodes` (`namespace/name`); the scheduler's own key for the pod too. */
export const podNodesField = (namespace: string, name: string): string => `${namespace}/${name}`;

export function redisKeys(prefix: string = DEFAULT_REDIS_PREFIX) {
  // The roots that kindOf tells keys apart by; the builders below start from them.
  const bullPrefix = `${prefix}:q`;
  const metaRoot = `${prefix}:meta:`;
  const rateRoot = `${prefix}:rate:`;
  const windowRoot = `${prefix}:window:`;
  const SETS = ':sets';
  const LONG = ':long';
  const window = (windowStartMs: number): string => `${windowRoot}${windowStartMs}`;
  return {
    /** Every key of this prefix matches this SCAN pattern. */
    allPattern: `${prefix}:*`,
    /** The kind of `key`, a key of this prefix (by the root its builder starts from). */
    kindOf(key: string): RedisKeyKind {
      if (key.startsWith(`${bullPrefix}:`)) return 'queues';
      if (key.startsWith(rateRoot)) return 'rate samples';
      if (key.startsWith(metaRoot)) return 'metadata';
      if (!key.startsWith(windowRoot)) return 'other';
      if (key.endsWith(SETS)) return 'window sets';
      if (key.endsWith(LONG)) return 'long-term values';
      return 'window bookkeeping';
    },
    /** BullMQ's `prefix` option. */
    bullPrefix,
    nodeMeta: `${metaRoot}nodes`,
    namespaceMeta: `${metaRoot}namespaces`,
    podsOnNode: (nodeName: string): string => `${metaRoot}pods:${nodeName}`,
    podsOnNodePattern: `${metaRoot}pods:*`,
    /** Hash: podNodesField -> the node the API server binds the pod to (pods bound to a node only). */
    podNodes: `${metaRoot}pod-nodes`,
    windowManifest: (windowStartMs: number): string => `${window(windowStartMs)}:manifest`,
    windowSets: (windowStartMs: number): string => `${window(windowStartMs)}${SETS}`,
    windowLong: (windowStartMs: number): string => `${window(windowStartMs)}${LONG}`,
    windowOutcomes: (windowStartMs: number): string => `${window(windowStartMs)}:outcomes`,
    windowPartials: (windowStartMs: number): string => `${window(windowStartMs)}:partials`,
    windowSummary: (windowStartMs: number): string => `${window(windowStartMs)}:summary`,
    windowExports: (windowStartMs: number): string => `${window(windowStartMs)}:exports`,
    windowKept: (windowStartMs: number): string => `${window(windowStartMs)}:kept`,
    rateState: (nodeName: string): string => `${rateRoot}${nodeName}`,
    schedulerLease: `${prefix}:scheduler:lease`,
    scrapers: `${prefix}:scrapers`,
    lastWindow: `${prefix}:scheduler:last-window`,
    storeWindows: `${prefix}:store:windows`,
    storeSummaries: `${prefix}:store:summaries`,
    sinkStats: (sink: string): string => `${prefix}:sink:${sink}:stats`,
    sinkWritten: (sink: string): string => `${prefix}:sink:${sink}:written`,
    eventsResourceVersion: `${prefix}:events:resource-version`,
    eventsDelivered: `${prefix}:events:delivered`,
    eventsSeen: `${prefix}:events:seen`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;
