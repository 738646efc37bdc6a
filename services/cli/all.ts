/**
 * `podometer all`: every role in one process (the API included), still through the real queues in Redis. For small
 * clusters and the demo; large clusters run the roles apart and scale scrapers and processors.
 */
import { loadRoleConfig, usage } from '../common/config.js';
import { mergeOptions } from '../common/options.js';
import { API_ROLE_OPTIONS, startApi } from '../api/main.js';
import { EVENTER_ROLE_OPTIONS, startEventer } from '../eventer/main.js';
import type { OptionSpec } from '../common/config.js';
import { openRuntime, runUntilSignal, type ConfigReader, type Runtime, type Service } from '../common/runtime.js';
import { EXPORTER_ROLE_OPTIONS, startExporter } from '../exporter/main.js';
import { PROCESSOR_ROLE_OPTIONS, startProcessor } from '../processor/main.js';
import { SCHEDULER_ROLE_OPTIONS, startScheduler } from '../scheduler/main.js';
import { SCRAPER_ROLE_OPTIONS, startScraper } from '../scraper/main.js';

const ALL_OPTIONS: readonly OptionSpec[] = [
  { name: 'with-eventer', type: 'boolean', default: false, description: 'Also run the eventer (Kubernetes events to the --sink list).' },
];

export const ALL_ROLE_OPTIONS = mergeOptions(SCHEDULER_ROLE_OPTIONS, SCRAPER_ROLE_OPTIONS, PROCESSOR_ROLE_OPTIONS, EXPORTER_ROLE_OPTIONS, API_ROLE_OPTIONS, EVENTER_ROLE_OPTIONS, ALL_OPTIONS);

/** Starts the stages downstream first, so every job finds its worker waiting. Stop in reverse. */
export async function startAll(runtime: Runtime, get: ConfigReader): Promise<Service[]> {
  const exporter = startExporter(runtime, get);
  const processor = startProcessor(runtime, get);
  const scraper = startScraper(runtime, get);
  const scheduler = await startScheduler(runtime, get);
  const api = await startApi(runtime, get);
  const eventer = get.boolean('with-eventer') ? [startEventer(runtime, get)] : [];
  return [api, scheduler, scraper, processor, exporter, ...eventer];
}

export async function runAll(argv: readonly string[]): Promise<number> {
  const config = loadRoleConfig(ALL_ROLE_OPTIONS, argv, usage('podometer all [flags]', 'Runs the scheduler, a scraper, a processor and the exporter in one process.', ALL_ROLE_OPTIONS));
  if (!config) return 0;
  const runtime = openRuntime(config.get, 'all');
  return runUntilSignal(runtime, await startAll(runtime, config.get));
}
