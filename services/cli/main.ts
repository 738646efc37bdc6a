/**
 * The one entry point: `podometer <role> [flags]`. Each role owns its flags and `--help`.
 * Configuration problems are reported all at once, with exit code 2, before anything starts.
 */
import { ConfigError } from '../common/config.js';

/** Loaded with the first pipeline role (it pulls in ioredis and BullMQ). */
const runRole = async (...args: Parameters<typeof import('../common/runtime.js').runRole>): Promise<number> => (await import('../common/runtime.js')).runRole(...args);
import { SummaryParseError } from '../common/summary-parser.js';

interface Role {
  readonly summary: string;
  /** Loaded on use, so a role pays only for its own imports. Each handles its own --help. */
  readonly run: (argv: readonly string[]) => Promise<number>;
}

const ROLES: Record<string, Role> = {
  demo: { summary: 'Start the simulator, Redis and the pipeline, and print each window.', run: async (argv) => (await import('./demo.js')).runDemo(argv) },
  api: { summary: "Serve Heapster's Model API and metrics.k8s.io (kubectl top) from the store.", run: async (argv) => runRole((await import('../api/main.js')).API_ROLE, argv) },
  eventer: { summary: 'Copy Kubernetes events to the sinks (none lost, none twice).', run: async (argv) => runRole((await import('../eventer/main.js')).EVENTER_ROLE, argv) },
  all: { summary: 'Every pipeline role in one process (through the queues).', run: async (argv) => runRole((await import('./all.js')).ALL_ROLE, argv) },
  scheduler: { summary: 'Discover nodes and pods; enqueue every window\'s scrape jobs (a few nodes each).', run: async (argv) => runRole((await import('../scheduler/main.js')).SCHEDULER_ROLE, argv) },
  scraper: { summary: 'Scrape kubelets (scale out freely).', run: async (argv) => runRole((await import('../scraper/main.js')).SCRAPER_ROLE, argv) },
  processor: { summary: 'Rates, enrichment, roll-ups; finalize windows.', run: async (argv) => runRole((await import('../processor/main.js')).PROCESSOR_ROLE, argv) },
  exporter: { summary: 'Write finalized windows to the short-term store and sinks.', run: async (argv) => runRole((await import('../exporter/main.js')).EXPORTER_ROLE, argv) },
  summary: { summary: 'Print the metric sets (and rates) of kubelet /stats/summary files.', run: async (argv) => (await import('./summary.js')).runSummaryCommand(argv) },
  simulate: { summary: 'Run the cluster simulator: a fake API server and kubelets.', run: async (argv) => (await import('../../simulator/main.js')).runSimulate(argv) },
  bench: { summary: 'Measure the pipeline: CPU per node-scrape per role, memory, window latency.', run: async (argv) => (await import('./bench.js')).runBench(argv) },
  'bench-simulator': { summary: "Measure the simulator's CPU cost per served summary.", run: async (argv) => (await import('../../simulator/bench.js')).runBenchSimulator(argv) },
};

export function topLevelHelp(): string {
  const width = Math.max(...Object.keys(ROLES).map((r) => r.length));
  return [
    'Usage: podometer <role> [flags]   (podometer <role> --help for its flags)',
    '',
    'Roles:',
    ...Object.entries(ROLES).map(([name, role]) => `  ${name.padEnd(width)}  ${role.summary}`),
  ].join('\n');
}

/** An error from the operating system, as Node reports one (`EADDRINUSE`, `EACCES`, `ENOENT`, ...). */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string' && typeof (error as NodeJS.ErrnoException).code === 'string';
}

export async function main(argv: readonly string[]): Promise<number> {
  const [roleName, ...rest] = argv;
  if (roleName === undefined || roleName === '--help' || roleName === '-h' || roleName === 'help') {
    console.log(topLevelHelp());
    return roleName === undefined ? 2 : 0;
  }
  const role = ROLES[roleName];
  if (!role) {
    console.error(`podometer: unknown role "${roleName}"\n\n${topLevelHelp()}`);
    return 2;
  }
  try {
    return await role.run(rest);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`podometer ${roleName}: ${error.message}\n\nRun "podometer ${roleName} --help" for the flags.`);
      return 2;
    }
    // A system error (an address taken, a file unreadable) is the operator's to fix, not a bug: its message, no stack.
    if (error instanceof SummaryParseError || isSystemError(error)) {
      console.error(`podometer ${roleName}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
