/** `podometer processor`: rates, enrichment and aggregation per node; window finalization. */
import type { FinalizeJob, ProcessJob } from '../common/jobs.js';
import { QUEUE } from '../common/keys.js';
import { COMMON_OPTIONS, mergeOptions, PROCESSOR_OPTIONS, SINK_OPTIONS, STORE_OPTIONS } from '../common/options.js';
import { sinkNames } from '../common/sink-config.js';
import { startWorker } from '../common/queues.js';
import type { ConfigReader, RoleDefinition, Runtime, Service } from '../common/runtime.js';
import { parseStoreLabels } from './enrich.js';
import { finalizeWindow, handleProcessJob, type ProcessorDeps } from './processor.js';

export const PROCESSOR_ROLE_OPTIONS = mergeOptions(COMMON_OPTIONS, PROCESSOR_OPTIONS, STORE_OPTIONS, SINK_OPTIONS);

export function startProcessor(runtime: Runtime, get: ConfigReader): Service {
  const deps: ProcessorDeps = {
    redis: runtime.redis,
    keys: runtime.keys,
    queues: runtime.queues,
    enrich: { labelSeparator: get.string('label-separator'), storeLabels: parseStoreLabels(get.list('store-label')), ignoreLabels: new Set(get.list('ignore-label')) },
    sinks: sinkNames(get.list('sink')),
    sinkRetry: { attempts: get.number('sink-retry-attempts'), backlog: get.number('sink-backlog') },
    stagingTtlMs: get.number('staging-retention'),
    logger: runtime.logger,
  };
  const common = { connection: runtime.redis, keys: runtime.keys, lockDurationMs: runtime.lockDurationMs, logger: runtime.logger };
  const workers = [
    startWorker<ProcessJob>({
      ...common, queue: QUEUE.process, concurrency: get.number('processor-concurrency'),
      handle: async (job) => {
        const record = await handleProcessJob(job, deps);
        runtime.metrics.processed(record);
        return record;
      },
    }),
    startWorker<FinalizeJob>({
      ...common, queue: QUEUE.finalize, concurrency: 1,
      handle: async (job) => {
        const summary = await finalizeWindow(job.windowStartMs, deps);
        if (summary) runtime.metrics.finalized(summary);
        return summary;
      },
    }),
  ];
  return { stop: async () => void (await Promise.all(workers.map((w) => w.close()))) };
}

export const PROCESSOR_ROLE: RoleDefinition = {
  name: 'processor',
  summary: 'Turns node scrapes into rates and roll-ups, and finalizes windows.',
  options: PROCESSOR_ROLE_OPTIONS,
  start: startProcessor,
};
