/**
 * `podometer all`: every role in one process (the API included), still through the real queues in Redis. For small
 * clusters and the demo; large clusters run the roles apart and scale scrapers and processors.
 */
import { mergeOptions } from '../common/options.js';
import { API_ROLE_OPTIONS, apiConfigProblems, startApi } from '../api/main.js';
import { EVENTER_ROLE_OPTIONS, eventerConfigProblems, startEventer } from '../eventer/main.js';
import type { OptionSpec } from '../common/config.js';
import type { ConfigReader, RoleDefinition, Runtime, Service } from '../common/runtime.js';
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
  const exporter = await startExporter(runtime, get);
  const processor = startProcessor(runtime, get);
  const scraper = startScraper(runtime, get);
  const scheduler = await startScheduler(runtime, get);
  const api = await startApi(runtime, get);
  const eventer = get.boolean('with-eventer') ? [await startEventer(runtime, get)] : [];
  return [api, scheduler, scraper, processor, exporter, ...eventer];
}

export const ALL_ROLE: RoleDefinition = {
  name: 'all',
  summary: 'Runs the scheduler, a scraper, a processor, the exporter and the API (and with --with-eventer the eventer) in one process.',
  options: ALL_ROLE_OPTIONS,
  check: (get) => [...apiConfigProblems(get), ...(get.boolean('with-eventer') ? eventerConfigProblems(get) : [])],
  start: startAll,
  servesMetrics: true,
};
