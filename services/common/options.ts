/**
 * Option groups shared by roles. A role lists the groups it needs; `podometer all` takes the
 * union, so one flag means the same thing everywhere (see config.ts for how they are read).
 */
import { existsSync } from 'node:fs';
import type { OptionSpec } from './config.js';
import { LOG_LEVELS } from './logger.js';
import { checkRedisUrl } from './redis.js';
import { checkSource, NODE_ADDRESS_TYPES } from './source.js';
import { DEFAULT_REDIS_PREFIX } from './keys.js';
import { checkSink } from './sink-config.js';
import { checkAddress } from './http.js';

/** A file flag's problem: empty means unset, otherwise the file must exist. */
const existingFile = (path: string): string | undefined => (path === '' || existsSync(path) ? undefined : 'no such file');

export const COMMON_OPTIONS: readonly OptionSpec[] = [
  { name: 'redis-url', type: 'string', default: 'redis://127.0.0.1:6379', valueName: 'URL', description: 'Redis for the queues and all shared state.', check: checkRedisUrl },
  { name: 'redis-prefix', type: 'string', default: DEFAULT_REDIS_PREFIX, valueName: 'NAME', description: 'Prefix of every Redis key and queue (several Podometers may share one Redis).', check: (v) => (/^[A-Za-z0-9_.-]+$/.test(v) ? undefined : 'letters, digits, _ . - only') },
  { name: 'log-level', type: 'string', default: 'info', choices: LOG_LEVELS, valueName: 'LEVEL', description: 'Least severe log level printed.' },
  { name: 'job-lock-duration', type: 'duration', default: 15_000, min: 1000, description: 'A job whose worker stops renewing its lock (killed, hung) is given to another worker after this.' },
  { name: 'metrics-address', type: 'string', default: '', valueName: 'HOST:PORT', description: "Where the role serves /metrics and /healthz (default 127.0.0.1 and the role's port: scheduler 9101, scraper 9102, processor 9103, exporter 9104; the api and all serve them on --api-address).", check: checkAddress },
  { name: 'api-token-file', type: 'string', default: '', valueName: 'FILE', description: 'Bearer tokens accepted by every HTTP endpoint, one per line (required off loopback).', check: existingFile },
  { name: 'api-basic-auth-file', type: 'string', default: '', valueName: 'FILE', description: 'Basic-auth credentials accepted by every HTTP endpoint, user:password per line.', check: existingFile },
];

export const SOURCE_OPTION: OptionSpec = {
  name: 'source', type: 'string', default: 'kubernetes.summary_api:', valueName: 'URI',
  description: "Where the cluster is, in Heapster's form kubernetes.summary_api:<api url>?inClusterConfig=&kubeletPort=&kubeletHttps=&insecure=&auth=&useServiceAccount=.",
  check: checkSource,
};

export const WINDOW_OPTIONS: readonly OptionSpec[] = [
  { name: 'metric-resolution', type: 'duration', default: 60_000, min: 5000, description: 'Length of a window; one scrape per node per window.' },
  { name: 'scrape-offset', type: 'duration', default: 5000, min: 0, description: 'Scrapes start this long after the window ends (Heapster: 5s).' },
  { name: 'window-deadline', type: 'duration', default: 0, min: 0, description: 'How long after the scrape start a window waits for slow nodes before finalizing (0: 75% of the resolution).' },
];

export const SCHEDULER_OPTIONS: readonly OptionSpec[] = [
  SOURCE_OPTION,
  { name: 'kubelet-preferred-address-types', type: 'list', default: ['Hostname', 'InternalDNS', 'InternalIP', 'ExternalDNS', 'ExternalIP'], valueName: 'TYPES', description: 'Node address types to reach kubelets at, in order of preference.', check: (v) => ((NODE_ADDRESS_TYPES as readonly string[]).includes(v) ? undefined : `must be one of ${NODE_ADDRESS_TYPES.join(', ')}`) },
  { name: 'kubelet-use-node-status-port', type: 'boolean', default: false, description: "Use the port in the node's status (daemonEndpoints.kubeletEndpoint) instead of kubeletPort." },
  { name: 'node-selector', type: 'string', default: '', valueName: 'SELECTOR', description: 'Scrape only nodes with these labels (a label selector, e.g. role=worker).' },
  { name: 'scrape-spread', type: 'duration', default: 4000, min: 0, description: "Scrapes of a window are spread over up to this long after its start, 8 ms per node (Heapster's jitter)." },
  { name: 'scheduler-id', type: 'string', default: '', valueName: 'ID', description: 'This replica\'s name in the lease (default: host name and pid).' },
];

export const SCRAPER_OPTIONS: readonly OptionSpec[] = [
  SOURCE_OPTION,
  { name: 'kubelet-ca-file', type: 'string', default: '', valueName: 'FILE', description: "CA bundle of the kubelets' serving certificates (default: the in-cluster CA when present).", check: existingFile },
  { name: 'kubelet-insecure-tls', type: 'boolean', default: false, description: 'Do not verify kubelet certificates (same as insecure=true in --source). Not for production.' },
  { name: 'kubelet-client-certificate', type: 'string', default: '', valueName: 'FILE', description: 'Client certificate (PEM) presented to kubelets.', check: existingFile },
  { name: 'kubelet-client-key', type: 'string', default: '', valueName: 'FILE', description: 'Key of the client certificate.', check: existingFile },
  { name: 'kubelet-token-file', type: 'string', default: '', valueName: 'FILE', description: 'Bearer token sent to kubelets, read again every minute as it rotates (default with useServiceAccount=true: the service-account token).', check: existingFile },
  { name: 'kubelet-request-timeout', type: 'duration', default: 10_000, min: 100, description: 'Time limit of one /stats/summary request.' },
  { name: 'kubelet-max-response-bytes', type: 'integer', default: 16 * 1024 * 1024, min: 1024, description: 'A larger summary is refused (the node fails for the window).' },
  { name: 'scraper-concurrency', type: 'integer', default: 64, min: 1, max: 10_000, description: 'Scrapes in flight per scraper process.' },
];

const STAGING_RETENTION_OPTION: OptionSpec = { name: 'staging-retention', type: 'duration', default: 900_000, min: 10_000, description: 'How long a window (and a node\'s rate samples) wait in Redis for its exporters.' };

/** Processing a node's scrape (rates, enrichment, staging): run by the scrape job that fetched it. */
export const PROCESSING_OPTIONS: readonly OptionSpec[] = [
  { name: 'label-separator', type: 'string', default: ',', valueName: 'TEXT', description: 'Separator of pod labels joined into the `labels` label.' },
  { name: 'store-label', type: 'list', default: [], valueName: 'LABELS', description: 'Pod labels also kept as labels of their own: name or tag=podLabel.' },
  { name: 'ignore-label', type: 'list', default: [], valueName: 'LABELS', description: 'Pod labels left out of the `labels` label.' },
  STAGING_RETENTION_OPTION,
];

export const STORE_OPTIONS: readonly OptionSpec[] = [
  { name: 'store-window-retention', type: 'duration', default: 140_000, min: 1000, description: 'How long full windows stay in the short-term store (Heapster: 140s).' },
  { name: 'store-long-retention', type: 'duration', default: 900_000, min: 1000, description: 'How long cpu/usage_rate and memory/usage stay in the store (Heapster: 15m).' },
  STAGING_RETENTION_OPTION,
];

export const SINK_OPTIONS: readonly OptionSpec[] = [
  { name: 'sink', type: 'strings', default: [], valueName: 'URI', description: "A sink in Heapster's form (repeatable): influxdb:http://host:8086?db=k8s&..., elasticsearch:http://host:9200?..., log. The short-term store is always written.", check: checkSink },
  { name: 'sink-retry-attempts', type: 'integer', default: 12, min: 1, max: 1000, description: 'Writes of one window to one sink before it moves to the failed set (retryable from Bull Board).' },
  { name: 'sink-retry-base', type: 'duration', default: 1000, min: 10, description: 'First retry delay; doubles each attempt, with jitter, honouring Retry-After.' },
  { name: 'sink-retry-max', type: 'duration', default: 300_000, min: 100, description: 'Longest delay between retries.' },
  { name: 'sink-backlog', type: 'integer', default: 30, min: 1, description: 'Windows waiting for one sink beyond which new windows are dropped for that sink (and counted).' },
];

/** The union of groups, each option once (for `podometer all`). */
export function mergeOptions(...groups: (readonly OptionSpec[])[]): OptionSpec[] {
  const seen = new Map<string, OptionSpec>();
  for (const spec of groups.flat()) if (!seen.has(spec.name)) seen.set(spec.name, spec);
  return [...seen.values()];
}
