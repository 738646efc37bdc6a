/**
 * The metric catalogue: every metric of Heapster's storage schema
 * (kubernetes-retired/heapster docs/storage-schema.md, metrics/core/metrics.go), with its unit,
 * type, value type and the metric-set types that carry it. The parser, the rate calculator, the
 * aggregators, the sinks and the APIs all derive what they do from this one table; nothing else
 * in Podometer spells a metric name.
 */

/** Heapster's metric-set types (label `type`). */
export const METRIC_SET_TYPES = ['pod_container', 'sys_container', 'pod', 'ns', 'node', 'cluster'] as const;
export type MetricSetType = (typeof METRIC_SET_TYPES)[number];

/** Heapster's label names (metrics/core/labels.go). */
export const LABEL = {
  type: 'type',
  podId: 'pod_id',
  podName: 'pod_name',
  /** Deprecated by Heapster; kept for readers of old data, never written. */
  podNamespace: 'pod_namespace',
  namespaceName: 'namespace_name',
  namespaceId: 'namespace_id',
  containerName: 'container_name',
  containerBaseImage: 'container_base_image',
  labels: 'labels',
  nodename: 'nodename',
  hostname: 'hostname',
  hostId: 'host_id',
  resourceId: 'resource_id',
  acceleratorMake: 'make',
  acceleratorModel: 'model',
  acceleratorId: 'accelerator_id',
} as const;
export type LabelName = (typeof LABEL)[keyof typeof LABEL];

/** `cumulative`: a counter that only grows while its container lives. `gauge`: a level. */
export type MetricKind = 'cumulative' | 'gauge';
/** Heapster's value types: `int64` values are integers, `float` values may have fractions. */
export type ValueType = 'int64' | 'float';
export type Unit =
  | 'nanoseconds'
  | 'milliseconds'
  | 'millicores'
  | 'bytes'
  | 'count'
  | 'bytes_per_second'
  | 'count_per_second'
  | 'ratio'
  | 'percent';

/**
 * Which kubelet block's `time` a value was sampled at. Rates divide by the difference of this
 * clock between two samples, so cpu and network rates each use their own block's time.
 */
export type SampleClock = 'cpu' | 'memory' | 'network' | 'fs' | 'accelerator' | 'scrape';

/** How a roll-up (pod, namespace, node, cluster) combines the values of its members. */
export type Aggregation = 'sum' | 'none';

export interface MetricDefinition {
  /** Heapster's name, e.g. `cpu/usage_rate`. */
  readonly name: string;
  readonly description: string;
  readonly kind: MetricKind;
  readonly valueType: ValueType;
  readonly unit: Unit;
  /** The metric-set types that carry this metric. */
  readonly setTypes: readonly MetricSetType[];
  /** Labels that tell apart several values of this metric in one set (e.g. `resource_id`). */
  readonly valueLabels: readonly LabelName[];
  readonly clock: SampleClock;
  readonly aggregation: Aggregation;
  /** For a `_rate` gauge: the cumulative it is derived from and the factor from units/second. */
  readonly rateOf?: { readonly source: string; readonly perSecondFactor: number };
  /** Where the value comes from: the kubelet summary, the API server, or computed by Podometer. */
  readonly origin: 'summary' | 'api' | 'derived';
}

const CONTAINERS_PODS_NODES: readonly MetricSetType[] = ['pod_container', 'sys_container', 'pod', 'node'];
const ALL_SETS: readonly MetricSetType[] = METRIC_SET_TYPES;
const POD_AND_NODE: readonly MetricSetType[] = ['pod', 'node'];
const NETWORK_ROLLUPS: readonly MetricSetType[] = ['pod', 'ns', 'node', 'cluster'];
const REQUEST_SETS: readonly MetricSetType[] = ['pod_container', 'pod', 'ns', 'node', 'cluster'];
const NODE_CAPACITY_SETS: readonly MetricSetType[] = ['node', 'cluster'];
const NODE_ONLY: readonly MetricSetType[] = ['node'];
const CONTAINER_ONLY: readonly MetricSetType[] = ['pod_container'];
const DISK_SETS: readonly MetricSetType[] = ['pod_container', 'sys_container', 'node'];

type Spec = Omit<MetricDefinition, 'valueLabels' | 'aggregation' | 'clock' | 'origin'> &
  Partial<Pick<MetricDefinition, 'valueLabels' | 'aggregation' | 'clock' | 'origin'>>;

function define(spec: Spec): MetricDefinition {
  return {
    ...spec,
    valueLabels: spec.valueLabels ?? [],
    aggregation: spec.aggregation ?? 'sum',
    clock: spec.clock ?? 'scrape',
    origin: spec.origin ?? 'summary',
  };
}

/** A cumulative metric and the `_rate` gauge derived from it. */
function withRate(cumulative: Spec, rate: Omit<Spec, 'kind' | 'rateOf'> & { perSecondFactor: number }): MetricDefinition[] {
  const { perSecondFactor, ...rest } = rate;
  return [
    define({ ...cumulative, kind: 'cumulative' }),
    define({
      valueLabels: cumulative.valueLabels,
      clock: cumulative.clock,
      ...rest,
      kind: 'gauge',
      origin: 'derived',
      rateOf: { source: cumulative.name, perSecondFactor },
    }),
  ];
}

/**
 * The node autoscaling metrics Heapster computes for cpu, memory and ephemeral storage:
 * capacity and allocatable from the Node object, reservation (requests / allocatable) and
 * utilization (usage / allocatable) derived from them.
 */
function nodeResourceMetrics(resource: string, title: string, unit: Unit): MetricDefinition[] {
  const fromApi = { kind: 'gauge', valueType: 'float', unit, setTypes: NODE_CAPACITY_SETS, origin: 'api' } as const;
  const share = { kind: 'gauge', valueType: 'float', unit: 'ratio', setTypes: NODE_ONLY, origin: 'derived', aggregation: 'none' } as const;
  return [
    define({ name: `${resource}/node_capacity`, description: `${title} capacity of a node, in ${unit}.`, ...fromApi }),
    define({ name: `${resource}/node_allocatable`, description: `${title} allocatable of a node, in ${unit}.`, ...fromApi }),
    define({ name: `${resource}/node_reservation`, description: `Share of ${title.toLowerCase()} that is reserved (requested) on the node allocatable.`, ...share }),
    define({ name: `${resource}/node_utilization`, description: `${title} utilization as a share of node allocatable.`, ...share }),
  ];
}

const FS_LABELS: readonly LabelName[] = [LABEL.resourceId];
/** [counter, unit, what is counted, direction] of the four network counters. */
const NETWORK_COUNTERS: readonly (readonly [string, Unit, string, string])[] = [
  ['rx', 'bytes', 'bytes', 'received over'],
  ['rx_errors', 'count', 'errors', 'while receiving over'],
  ['tx', 'bytes', 'bytes', 'sent over'],
  ['tx_errors', 'count', 'errors', 'while sending over'],
];
const ACCELERATOR_LABELS: readonly LabelName[] = [LABEL.acceleratorMake, LABEL.acceleratorModel, LABEL.acceleratorId];

export const METRICS: readonly MetricDefinition[] = [
  define({
    name: 'uptime', description: 'Number of milliseconds since the container was started (sample time minus start time).',
    kind: 'cumulative', valueType: 'int64', unit: 'milliseconds', setTypes: CONTAINERS_PODS_NODES, aggregation: 'none',
  }),
  define({
    name: 'restart_count', description: 'Number of container restarts.',
    kind: 'cumulative', valueType: 'int64', unit: 'count', setTypes: ['pod_container', 'pod'], origin: 'api',
  }),

  // cpu
  ...withRate(
    { name: 'cpu/usage', description: 'Cumulative CPU usage on all cores.', kind: 'cumulative', valueType: 'int64', unit: 'nanoseconds', setTypes: CONTAINERS_PODS_NODES, clock: 'cpu' },
    // ns of CPU per second / 1e6 = millicores
    { name: 'cpu/usage_rate', description: 'CPU usage on all cores in millicores.', valueType: 'int64', unit: 'millicores', setTypes: ALL_SETS, perSecondFactor: 1e-6 },
  ),
  define({ name: 'cpu/request', description: 'CPU request (the guaranteed amount of resources) in millicores.', kind: 'gauge', valueType: 'int64', unit: 'millicores', setTypes: REQUEST_SETS, origin: 'api' }),
  define({ name: 'cpu/limit', description: 'CPU hard limit in millicores.', kind: 'gauge', valueType: 'int64', unit: 'millicores', setTypes: REQUEST_SETS, origin: 'api' }),

  ...nodeResourceMetrics('cpu', 'Cpu', 'millicores'),

  // memory
  define({ name: 'memory/usage', description: 'Total memory usage.', kind: 'gauge', valueType: 'int64', unit: 'bytes', setTypes: ALL_SETS, clock: 'memory' }),
  define({ name: 'memory/working_set', description: 'Total working set usage: memory in use and not easily dropped by the kernel.', kind: 'gauge', valueType: 'int64', unit: 'bytes', setTypes: ALL_SETS, clock: 'memory' }),
  define({ name: 'memory/rss', description: 'RSS memory usage.', kind: 'gauge', valueType: 'int64', unit: 'bytes', setTypes: CONTAINERS_PODS_NODES, clock: 'memory' }),
  define({ name: 'memory/cache', description: 'Cache memory usage (cAdvisor only; the Summary API does not report it).', kind: 'gauge', valueType: 'int64', unit: 'bytes', setTypes: CONTAINERS_PODS_NODES, clock: 'memory' }),
  ...withRate(
    { name: 'memory/page_faults', description: 'Number of page faults.', kind: 'cumulative', valueType: 'int64', unit: 'count', setTypes: CONTAINERS_PODS_NODES, clock: 'memory' },
    { name: 'memory/page_faults_rate', description: 'Number of page faults per second.', valueType: 'float', unit: 'count_per_second', setTypes: CONTAINERS_PODS_NODES, perSecondFactor: 1 },
  ),
  ...withRate(
    { name: 'memory/major_page_faults', description: 'Number of major page faults.', kind: 'cumulative', valueType: 'int64', unit: 'count', setTypes: CONTAINERS_PODS_NODES, clock: 'memory' },
    { name: 'memory/major_page_faults_rate', description: 'Number of major page faults per second.', valueType: 'float', unit: 'count_per_second', setTypes: CONTAINERS_PODS_NODES, perSecondFactor: 1 },
  ),
  define({ name: 'memory/request', description: 'Memory request (the guaranteed amount of resources) in bytes.', kind: 'gauge', valueType: 'int64', unit: 'bytes', setTypes: REQUEST_SETS, origin: 'api' }),
  define({ name: 'memory/limit', description: 'Memory hard limit in bytes.', kind: 'gauge', valueType: 'int64', unit: 'bytes', setTypes: REQUEST_SETS, origin: 'api' }),

  ...nodeResourceMetrics('memory', 'Memory', 'bytes'),

  // network: pod and node level only (containers share the pod's network namespace)
  ...NETWORK_COUNTERS.flatMap(([counter, unit, what, direction]) =>
    withRate(
      { name: `network/${counter}`, description: `Cumulative number of ${what} ${direction} the network.`, kind: 'cumulative', valueType: 'int64', unit, setTypes: POD_AND_NODE, clock: 'network' },
      { name: `network/${counter}_rate`, description: `Number of ${what} ${direction} the network per second.`, valueType: 'float', unit: unit === 'bytes' ? 'bytes_per_second' : 'count_per_second', setTypes: NETWORK_ROLLUPS, perSecondFactor: 1 },
    ),
  ),

  // filesystem: one value per filesystem, told apart by resource_id ("/", "logs", "Volume:<name>")
  define({ name: 'filesystem/usage', description: 'Total number of bytes consumed on a filesystem.', kind: 'gauge', valueType: 'int64', unit: 'bytes', setTypes: CONTAINERS_PODS_NODES, valueLabels: FS_LABELS, clock: 'fs', aggregation: 'none' }),
  define({ name: 'filesystem/limit', description: 'The total size of filesystem in bytes.', kind: 'gauge', valueType: 'int64', unit: 'bytes', setTypes: CONTAINERS_PODS_NODES, valueLabels: FS_LABELS, clock: 'fs', aggregation: 'none' }),
  define({ name: 'filesystem/available', description: 'The number of available bytes remaining in the filesystem.', kind: 'gauge', valueType: 'int64', unit: 'bytes', setTypes: CONTAINERS_PODS_NODES, valueLabels: FS_LABELS, clock: 'fs', aggregation: 'none' }),
  define({ name: 'filesystem/inodes', description: 'The number of inodes in the filesystem.', kind: 'gauge', valueType: 'int64', unit: 'count', setTypes: CONTAINERS_PODS_NODES, valueLabels: FS_LABELS, clock: 'fs', aggregation: 'none' }),
  define({ name: 'filesystem/inodes_free', description: 'The number of free inodes remaining in the filesystem.', kind: 'gauge', valueType: 'int64', unit: 'count', setTypes: CONTAINERS_PODS_NODES, valueLabels: FS_LABELS, clock: 'fs', aggregation: 'none' }),

  // disk io: cAdvisor only (the Summary API carries no per-device io counters); kept for schema parity
  ...withRate(
    { name: 'disk/io_read_bytes', description: 'Number of bytes read from a disk partition.', kind: 'cumulative', valueType: 'int64', unit: 'bytes', setTypes: DISK_SETS, valueLabels: FS_LABELS, aggregation: 'none' },
    { name: 'disk/io_read_bytes_rate', description: 'Number of bytes read from a disk partition per second.', valueType: 'float', unit: 'bytes_per_second', setTypes: DISK_SETS, perSecondFactor: 1, aggregation: 'none' },
  ),
  ...withRate(
    { name: 'disk/io_write_bytes', description: 'Number of bytes written to a disk partition.', kind: 'cumulative', valueType: 'int64', unit: 'bytes', setTypes: DISK_SETS, valueLabels: FS_LABELS, aggregation: 'none' },
    { name: 'disk/io_write_bytes_rate', description: 'Number of bytes written to a disk partition per second.', valueType: 'float', unit: 'bytes_per_second', setTypes: DISK_SETS, perSecondFactor: 1, aggregation: 'none' },
  ),

  // ephemeral storage
  define({ name: 'ephemeral_storage/usage', description: 'Ephemeral storage used: container rootfs plus logs; pod and node as the kubelet reports them.', kind: 'gauge', valueType: 'int64', unit: 'bytes', setTypes: REQUEST_SETS, clock: 'fs' }),
  define({ name: 'ephemeral_storage/request', description: 'Ephemeral storage request in bytes.', kind: 'gauge', valueType: 'int64', unit: 'bytes', setTypes: REQUEST_SETS, origin: 'api' }),
  define({ name: 'ephemeral_storage/limit', description: 'Ephemeral storage hard limit in bytes.', kind: 'gauge', valueType: 'int64', unit: 'bytes', setTypes: REQUEST_SETS, origin: 'api' }),

  ...nodeResourceMetrics('ephemeral_storage', 'Ephemeral storage', 'bytes'),

  // accelerators: one value per device, told apart by make, model and accelerator_id
  define({ name: 'accelerator/memory_total', description: 'Memory capacity of an accelerator, in bytes.', kind: 'gauge', valueType: 'int64', unit: 'bytes', setTypes: CONTAINER_ONLY, valueLabels: ACCELERATOR_LABELS, clock: 'accelerator', aggregation: 'none' }),
  define({ name: 'accelerator/memory_used', description: 'Memory used of an accelerator, in bytes.', kind: 'gauge', valueType: 'int64', unit: 'bytes', setTypes: CONTAINER_ONLY, valueLabels: ACCELERATOR_LABELS, clock: 'accelerator', aggregation: 'none' }),
  define({ name: 'accelerator/duty_cycle', description: 'Percent of time over the past sample period during which the accelerator was busy.', kind: 'gauge', valueType: 'int64', unit: 'percent', setTypes: CONTAINER_ONLY, valueLabels: ACCELERATOR_LABELS, clock: 'accelerator', aggregation: 'none' }),
];

export const METRICS_BY_NAME: ReadonlyMap<string, MetricDefinition> = new Map(METRICS.map((m) => [m.name, m]));

/** The `_rate` gauges, each with the cumulative it comes from. */
export const RATE_METRICS: readonly MetricDefinition[] = METRICS.filter((m) => m.rateOf !== undefined);

/** cumulative name -> its `_rate` definition. */
export const RATE_OF_CUMULATIVE: ReadonlyMap<string, MetricDefinition> = new Map(
  RATE_METRICS.map((m) => [m.rateOf!.source, m]),
);

/**
 * Heapster's `withfields=true` split: measurement is the part before the first `/`, the field is
 * the rest (or `value` for a name without `/`, such as `uptime`).
 */
export function familyAndField(name: string): { family: string; field: string } {
  const slash = name.indexOf('/');
  return slash < 0 ? { family: name, field: 'value' } : { family: name.slice(0, slash), field: name.slice(slash + 1) };
}

/** What joins a container's set key to its pod's or node's. */
const CONTAINER_OF = '/container:';
const NODE_ROOT = 'node:';

/** Heapster's metric-set keys (metrics/core/ms_keys.go). */
export const metricSetKey = {
  podContainer: (namespace: string, pod: string, container: string): string =>
    `namespace:${namespace}/pod:${pod}${CONTAINER_OF}${container}`,
  pod: (namespace: string, pod: string): string => `namespace:${namespace}/pod:${pod}`,
  namespace: (namespace: string): string => `namespace:${namespace}`,
  node: (node: string): string => `${NODE_ROOT}${node}`,
  nodeContainer: (node: string, container: string): string => `${NODE_ROOT}${node}${CONTAINER_OF}${container}`,
  cluster: (): string => 'cluster',
  /** The key of the pod or node a container's set belongs to; any other key itself. (Names cannot contain `/`.) */
  parentOf: (key: string): string => {
    const at = key.indexOf(CONTAINER_OF);
    return at === -1 ? key : key.slice(0, at);
  },
  /** The prefix of the keys of the containers under a pod's or node's key. */
  containersOf: (parentKey: string): string => `${parentKey}${CONTAINER_OF}`,
  /** The node a node's or system container's key names; undefined for any other key. */
  nodeNameOf: (key: string): string | undefined => {
    if (!key.startsWith(NODE_ROOT)) return undefined;
    const at = key.indexOf(CONTAINER_OF);
    return key.slice(NODE_ROOT.length, at === -1 ? undefined : at);
  },
};

/** resource_id values Heapster gives filesystems. */
export const RESOURCE_ID = {
  rootFs: '/',
  logs: 'logs',
  volume: (name: string): string => `Volume:${name}`,
} as const;

/** Heapster's legacy names for kubelet system containers; others keep their kubelet name. */
export const LEGACY_SYSTEM_CONTAINER_NAMES: Readonly<Record<string, string>> = {
  runtime: 'docker-daemon',
  misc: 'system',
};
