/** `podometer eventer`: Kubernetes events to the sinks, none lost and none twice across restarts. */
import { ConfigError, loadRoleConfig, usage, type OptionSpec } from '../common/config.js';
import { kubeConfigFor } from '../common/kube.js';
import { COMMON_OPTIONS, mergeOptions, SINK_OPTIONS, SOURCE_OPTION } from '../common/options.js';
import { openRuntime, runUntilSignal, serveRoleMetrics, type ConfigReader, type Runtime, type Service } from '../common/runtime.js';
import { parseSinks } from '../common/sink-config.js';
import { parseSource } from '../common/source.js';
import { Eventer } from './eventer.js';

export const EVENTER_OPTIONS: readonly OptionSpec[] = [
  { name: 'event-namespaces', type: 'list', default: [], valueName: 'NAMESPACES', description: 'Only events of these namespaces (default: all).' },
  { name: 'event-flush-interval', type: 'duration', default: 1000, min: 50, description: 'Events are handed to the sinks in batches this often.' },
];

export const EVENTER_ROLE_OPTIONS = mergeOptions(COMMON_OPTIONS, [SOURCE_OPTION], SINK_OPTIONS, EVENTER_OPTIONS);

export function startEventer(runtime: Runtime, get: ConfigReader): Service & { eventer: Eventer } {
  const sinks = parseSinks(get.list('sink')).map((s) => s.name);
  if (sinks.length === 0) throw new ConfigError(['the eventer needs at least one --sink (influxdb, elasticsearch or log)']);
  const eventer = new Eventer(kubeConfigFor(parseSource(get.string('source'))), runtime.redis, runtime.keys, runtime.queues, {
    sinks,
    namespaces: get.list('event-namespaces'),
    flushIntervalMs: get.number('event-flush-interval'),
    sinkAttempts: get.number('sink-retry-attempts'),
    deliveredTtlMs: 2 * 3_600_000,
  }, runtime.logger, (n) => runtime.metrics.eventsDelivered(n));
  eventer.start();
  return { eventer, stop: () => eventer.stop() };
}

export async function runEventer(argv: readonly string[]): Promise<number> {
  const config = loadRoleConfig(EVENTER_ROLE_OPTIONS, argv, usage('podometer eventer [flags]', 'Copies Kubernetes events to the sinks (Heapster\'s eventer).', EVENTER_ROLE_OPTIONS));
  if (!config) return 0;
  const runtime = openRuntime(config.get, 'eventer');
  return runUntilSignal(runtime, [startEventer(runtime, config.get), await serveRoleMetrics(runtime, config.get, 'eventer')]);
}
