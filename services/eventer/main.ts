/** `podometer eventer`: Kubernetes events to the sinks, none lost and none twice across restarts. */
import { ConfigError, inClusterApiServerUrl, type OptionSpec } from '../common/config.js';
import { apiServerConnection } from '../common/kube.js';
import { COMMON_OPTIONS, mergeOptions, SINK_OPTIONS, SOURCE_OPTION } from '../common/options.js';
import type { ConfigReader, RoleDefinition, Runtime, Service } from '../common/runtime.js';
import { parseSinks } from '../common/sink-config.js';
import { parseSource } from '../common/source.js';
import { Eventer } from './eventer.js';

export const EVENTER_OPTIONS: readonly OptionSpec[] = [
  { name: 'event-namespaces', type: 'list', default: [], valueName: 'NAMESPACES', description: 'Only events of these namespaces (default: all).' },
  { name: 'event-flush-interval', type: 'duration', default: 1000, min: 50, description: 'Events are handed to the sinks in batches this often.' },
];

export const EVENTER_ROLE_OPTIONS = mergeOptions(COMMON_OPTIONS, [SOURCE_OPTION], SINK_OPTIONS, EVENTER_OPTIONS);

export const eventerConfigProblems = (get: ConfigReader): string[] =>
  get.list('sink').length === 0 ? ['the eventer needs at least one --sink (influxdb, elasticsearch or log)'] : [];

export async function startEventer(runtime: Runtime, get: ConfigReader): Promise<Service & { eventer: Eventer }> {
  const problems = eventerConfigProblems(get);
  if (problems.length > 0) throw new ConfigError(problems);
  const sinks = parseSinks(get.list('sink')).map((s) => s.name);
  const api = await apiServerConnection(parseSource(get.string('source')), { apiServerUrl: inClusterApiServerUrl() });
  const eventer = new Eventer(api, runtime.redis, runtime.keys, runtime.queues, {
    sinks,
    namespaces: get.list('event-namespaces'),
    flushIntervalMs: get.number('event-flush-interval'),
    sinkAttempts: get.number('sink-retry-attempts'),
    deliveredTtlMs: 2 * 3_600_000,
  }, runtime.logger, (n) => runtime.metrics.eventsDelivered(n));
  eventer.start();
  return { eventer, stop: () => eventer.stop() };
}

export const EVENTER_ROLE: RoleDefinition = {
  name: 'eventer',
  summary: "Copies Kubernetes events to the sinks (Heapster's eventer).",
  options: EVENTER_ROLE_OPTIONS,
  check: eventerConfigProblems,
  start: startEventer,
};
