/**
 * `podometer processor`: window finalization (roll-ups, the window summary, one export job per
 * sink). Each node's rates, enrichment and aggregation run in the scrape job that fetched it
 * (see processor.ts); `nodeProcessingFrom` builds what that needs for the scraper role.
 */
import type { FinalizeJob } from '../common/jobs.js';
import { QUEUE } from '../common/keys.js';
import { COMMON_OPTIONS, mergeOptions, SINK_OPTIONS, STORE_OPTIONS } from '../common/options.js';
import { sinkNames } from '../common/sink-config.js';
import { startWorker } from '../common/queues.js';
import type { ConfigReader, RoleDefinition, Runtime, Service } from '../common/runtime.js';
import { parseStoreLabels } from './enrich.js';
import { finalizeWindow, type FinalizeDeps, type NodeProcessingDeps, type PipelineStateDeps } from './processor.js';

export const PROCESSOR_ROLE_OPTIONS = mergeOptions(COMMON_OPTIONS, STORE_OPTIONS, SINK_OPTIONS);

/** The Redis state processing and finalizing share. */
function pipelineStateFrom(runtime: Runtime, get: ConfigReader): PipelineStateDeps {
  return { redis: runtime.redis, keys: runtime.keys, queues: runtime.queues, stagingTtlMs: get.number('staging-retention'), logger: runtime.logger };
}

/** What processing a node's scrape needs, from the flags of PROCESSING_OPTIONS. */
export function nodeProcessingFrom(runtime: Runtime, get: ConfigReader): NodeProcessingDeps {
  const enrich = { labelSeparator: get.string('label-separator'), storeLabels: parseStoreLabels(get.list('store-label')), ignoreLabels: new Set(get.list('ignore-label')) };
  return { ...pipelineStateFrom(runtime, get), enrich };
}

export function startProcessor(runtime: Runtime, get: ConfigReader): Service {
  const deps: FinalizeDeps = {
    ...pipelineStateFrom(runtime, get),
    sinks: sinkNames(get.list('sink')),
    sinkRetry: { attempts: get.number('sink-retry-attempts'), backlog: get.number('sink-backlog') },
  };
  const worker = startWorker<FinalizeJob>({
    queue: QUEUE.finalize,
    connection: runtime.queueRedis,
    keys: runtime.keys,
    concurrency: 1,
    lockDurationMs: runtime.lockDurationMs,
    logger: runtime.logger,
    handle: async (job) => {
      const summary = await finalizeWindow(job.windowStartMs, deps);
      if (summary) runtime.metrics.finalized(summary);
      return summary;
    },
  });
  return { stop: () => worker.close() };
}

export const PROCESSOR_ROLE: RoleDefinition = {
  name: 'processor',
  summary: 'Finalizes windows: roll-ups to namespace and cluster, the window summary, the exports.',
  options: PROCESSOR_ROLE_OPTIONS,
  start: startProcessor,
};
