/** `podometer scheduler`: discovery, metadata publishing and window fan-out. */
import { hostname } from 'node:os';
import { inClusterApiServerUrl } from '../common/config.js';
import { apiServerConnection } from '../common/kube.js';
import { COMMON_OPTIONS, mergeOptions, SCHEDULER_OPTIONS, WINDOW_OPTIONS } from '../common/options.js';
import type { ConfigReader, RoleDefinition, Runtime, Service } from '../common/runtime.js';
import { parseSource } from '../common/source.js';
import { ClusterMetadata, startDiscovery } from './discovery.js';
import { Scheduler } from './scheduler.js';

export const SCHEDULER_ROLE_OPTIONS = mergeOptions(COMMON_OPTIONS, SCHEDULER_OPTIONS, WINDOW_OPTIONS);

export async function startScheduler(runtime: Runtime, get: ConfigReader): Promise<Service & { scheduler: Scheduler; metadata: ClusterMetadata }> {
  const source = parseSource(get.string('source'));
  const metadata = new ClusterMetadata({
    preferredAddressTypes: get.list('kubelet-preferred-address-types'),
    useNodeStatusPort: get.boolean('kubelet-use-node-status-port'),
    port: source.kubeletPort,
    https: source.kubeletHttps,
  });
  const discovery = startDiscovery(await apiServerConnection(source, { apiServerUrl: inClusterApiServerUrl() }), metadata, get.string('node-selector'), runtime.logger);
  await discovery.start();
  runtime.logger.info('discovery synced', metadata.counts);
  const scheduler = new Scheduler(runtime.redis, runtime.keys, runtime.queues, metadata, {
    id: get.string('scheduler-id') || `${hostname()}-${process.pid}`,
    timing: { resolutionMs: get.number('metric-resolution'), offsetMs: get.number('scrape-offset'), deadlineAfterScrapeMs: get.number('window-deadline') },
    maxSpreadMs: get.number('scrape-spread'),
    metadataTtlMs: 600_000,
  }, runtime.logger);
  scheduler.start();
  return {
    scheduler,
    metadata,
    stop: async () => {
      await scheduler.stop();
      await discovery.stop();
    },
  };
}

export const SCHEDULER_ROLE: RoleDefinition = {
  name: 'scheduler',
  summary: 'Discovers nodes and pods and enqueues every window\'s scrape jobs (a few nodes each).',
  options: SCHEDULER_ROLE_OPTIONS,
  start: startScheduler,
};
