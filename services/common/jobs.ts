/**
 * Job payloads of every queue, and the Kubernetes metadata the scheduler publishes for the
 * processor. Times are ms since epoch; a window is named by its start (`windowStartMs`).
 */
import type { ScrapeFailureReason } from '../scraper/kubelet-client.js';

/** Resources in Podometer's units: cpu in millicores, memory and ephemeral storage in bytes. */
export interface ResourceAmounts {
  cpuMilliCores?: number;
  memoryBytes?: number;
  ephemeralBytes?: number;
}

export interface NodeMeta {
  name: string;
  uid: string;
  /** Heapster's `host_id`: the node's provider id, or '' when it has none. */
  hostId: string;
  labels: Record<string, string>;
  capacity: ResourceAmounts;
  allocatable: ResourceAmounts;
  ready: boolean;
}

export interface ContainerMeta {
  name: string;
  image: string;
  requests: ResourceAmounts;
  limits: ResourceAmounts;
  restartCount: number;
}

export interface PodMeta {
  namespace: string;
  name: string;
  uid: string;
  nodeName: string;
  phase: string;
  labels: Record<string, string>;
  /** The controller that owns the pod, e.g. `ReplicaSet/web-5d9c`; '' when none. */
  owner: string;
  containers: ContainerMeta[];
}

export interface NamespaceMeta {
  name: string;
  uid: string;
}

/**
 * Nodes per scrape job. The bench's floor (no-op jobs, ms of CPU per node, process + Redis): 1
 * node per job 0.26-0.29 + 0.22-0.24, 8 nodes 0.12-0.17 + 0.08, 16 nodes 0.08-0.14 + 0.06. Past 8
 * the saving is small, and a job's nodes wait for its slowest kubelet before the job completes.
 */
export const NODES_PER_SCRAPE_JOB = 8;

/** One node to scrape: its name and the base URL of its kubelet, e.g. `https://10.0.0.5:10250`. */
export interface ScrapeTarget {
  nodeName: string;
  kubeletUrl: string;
}

/**
 * Nodes of one scrape shard to scrape in one window (queue `scrape-<shard>`, id
 * `scrape-<first node>-<W>`), up to NODES_PER_SCRAPE_JOB of them, scraped at once. Not one job per
 * node: a BullMQ job costs ~0.6 ms of CPU whatever it holds (its Lua scripts in Redis, the client's
 * side of them, the scheduler's add; the bench's floor), ~10% of a node-scrape at 1,000 nodes.
 */
export interface ScrapeJob {
  windowStartMs: number;
  /** After this the window finalizes without the node; a scrape that starts later is pointless. */
  deadlineMs: number;
  nodes: ScrapeTarget[];
}

/**
 * One node's scrape in one window, as the scrape handler takes it. Also the scrape job as
 * schedulers before batching added it (one node): scrapers still take that form, so an upgrade
 * can start with them.
 */
export interface NodeScrape extends ScrapeTarget {
  windowStartMs: number;
  deadlineMs: number;
}

/** The nodes of a scrape job of either form. */
export const scrapeTargetsOf = (job: ScrapeJob | NodeScrape): ScrapeTarget[] =>
  'nodes' in job ? job.nodes : [{ nodeName: job.nodeName, kubeletUrl: job.kubeletUrl }];

export type NodeOutcome =
  | { status: 'ok'; bytes: number; durationMs: number; receivedAtMs: number }
  | { status: 'failed'; reason: ScrapeFailureReason | 'bad_summary' | 'too_late'; message: string; durationMs: number };

/**
 * One node's scrape of one window, as the scrape handler hands it to processing (in the same
 * job): `body` is the summary as the kubelet sent it (size-checked, valid UTF-8), present exactly
 * when the outcome is ok.
 */
export interface ScrapedNode {
  windowStartMs: number;
  nodeName: string;
  outcome: NodeOutcome;
  body?: Buffer;
  /** Hands the body's buffer back for reuse (the scraper's `BodyBuffers`): processing calls it once the body is parsed, and reads it no more. */
  releaseBody?: () => void;
}

/** Queue `finalize`, id `finalize-<W>`: added delayed to the deadline, promoted when all nodes are in. */
export interface FinalizeJob {
  windowStartMs: number;
}

/** Queue `export-<sink>`, id `export-<sink>-<W>`: write window W (read from staging) to that sink. */
export interface ExportJob {
  windowStartMs: number;
}

/** A Kubernetes event as the sinks need it (the eventer's unit of delivery). */
export interface EventRecord {
  uid: string;
  namespace: string;
  name: string;
  reason: string;
  message: string;
  type: string;
  kind: string;
  objectName: string;
  objectUid: string;
  component: string;
  host: string;
  count: number;
  firstTimestampMs: number;
  lastTimestampMs: number;
  /** The event as the API server sent it (Heapster's InfluxDB `value` is this JSON). */
  json: string;
}

/** Queue `export-<sink>`, job name `events`, id `events-<sink>-<hash>`: events for that sink. */
export interface EventsExportJob {
  events: EventRecord[];
}

export interface WindowManifest {
  windowStartMs: number;
  windowEndMs: number;
  /** When scrapes start: window end plus the scrape offset. */
  scrapeAtMs: number;
  deadlineMs: number;
  expectedNodes: string[];
}

/** What became of a window, as the store reports it. */
export interface WindowSummary {
  windowStartMs: number;
  /** The time every point of the window is reported at (Heapster's batch timestamp). */
  windowEndMs: number;
  /** When the window's scrapes began (window end plus the scrape offset). */
  scrapeAtMs: number;
  expectedNodes: number;
  okNodes: number;
  failedNodes: Record<string, string>;
  /** Expected nodes with no outcome at finalization (scrape not even finished). */
  missedNodes: string[];
  /** `complete`: every expected node was processed; `deadline`: finalized at the deadline. */
  finalizedBy: 'complete' | 'deadline';
  finalizedAtMs: number;
  metricSets: number;
  /** Rates not computed, by reason (restart, counter_decrease, ...), over all nodes. */
  rateSkips: Record<string, number>;
  /** CPU the scrapers spent parsing, processing and encoding the window's nodes (ms; the sum of their records' `processingCpuMs`). */
  processingCpuMs?: number;
  /** Pods a kubelet reported that the API server binds to another node: left out of that kubelet's node (the bound node's report counts). */
  podsBoundElsewhere?: number;
}

/**
 * What the processor records per node and window (the outcome plus processing figures).
 * `processingCpuMs`: the process's CPU (ms, to the µs) over the one synchronous step that parses
 * the node's summary, processes it and encodes what is staged; the garbage collector's helper
 * threads are counted when they run during it. What the bench sets against its limit.
 */
export type NodeRecord = NodeOutcome & {
  metricSets?: number;
  rateSkips?: Record<string, number>;
  processingCpuMs?: number;
  /** Pods (`namespace/name`) in the node's summary that the API server binds to another node (-> that node): not counted from this node. */
  podsBoundElsewhere?: Record<string, string>;
};
