/**
 * `podometer demo`: the simulator plus what the pipeline has so far. Every `--interval` it
 * scrapes each simulated kubelet over verified HTTPS, parses the summaries, computes rates against
 * the previous scrape, and prints nodes and the top pods by CPU next to the simulator's ground
 * truth. (Later the `all` role takes over the scraping through the real queues.)
 */
import { loadRoleConfig, usage, type OptionSpec } from '../common/config.js';
import { formatBytes } from '../common/metric-export.js';
import { toApproxNumber, type MetricSet } from '../common/metric-set.js';
import { parseSummary, SummaryParseError } from '../common/summary-parser.js';
import { applyRates } from '../processor/rates.js';
import { KubeletClient, ScrapeError } from '../scraper/kubelet-client.js';
import { Simulator } from '../../simulator/simulator.js';

export const DEMO_OPTIONS: readonly OptionSpec[] = [
  { name: 'nodes', type: 'integer', min: 1, max: 500, default: 5, description: 'Simulated nodes.', env: false },
  { name: 'pods-per-node', type: 'integer', min: 1, max: 110, default: 10, description: 'Pods per node.', env: false },
  { name: 'interval', type: 'duration', min: 2000, default: 10_000, description: 'Time between scrapes.', env: false },
  { name: 'rounds', type: 'integer', min: 0, default: 0, description: 'Stop after this many tables (0: run until Ctrl-C).', env: false },
];

export const DEMO_HELP = usage('podometer demo [--nodes N] [--pods-per-node M] [--interval 10s]', 'Starts the cluster simulator and shows live metrics scraped from its kubelets.', DEMO_OPTIONS);

const cell = (text: string, width: number, right = true): string => (right ? text.padStart(width) : text.padEnd(width));

export async function runDemo(argv: readonly string[]): Promise<number> {
  const config = loadRoleConfig(DEMO_OPTIONS, argv, DEMO_HELP);
  if (!config) return 0;
  const { get } = config;
  const simulator = await Simulator.start({ nodes: get.number('nodes'), podsPerNode: get.number('pods-per-node'), restartsPerMinute: 1, churnPerMinute: 1, stateDir: '.tmp/demo' });
  const client = new KubeletClient({ caPem: simulator.caPem!, timeoutMs: 5000, maxResponseBytes: 16 * 1024 * 1024 });
  console.log(`simulator: ${simulator.cluster.nodes.length} nodes, ${simulator.cluster.pods.size} pods; API server ${simulator.apiUrl}; kubelets over HTTPS (CA .tmp/demo/kubelet-ca.crt)`);
  let previous = new Map<string, MetricSet>();
  let stop = false;
  const onSignal = (): void => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const rounds = get.number('rounds');
  for (let round = 0; !stop && (rounds === 0 || round <= rounds); round++) {
    const current = new Map<string, MetricSet>();
    const failures: string[] = [];
    await Promise.all(
      simulator.cluster.nodes.map(async (node) => {
        try {
          const fetched = await client.fetchSummary(node.name, simulator.kubeletUrl(node.name));
          const batch = parseSummary(fetched.body, { nodeName: node.name, receivedAtMs: fetched.receivedAtMs });
          for (const set of batch.metricSets) {
            const earlier = previous.get(set.key);
            if (earlier) applyRates(earlier, set);
            current.set(set.key, set);
          }
        } catch (error) {
          if (error instanceof ScrapeError || error instanceof SummaryParseError) failures.push(error.message);
          else throw error;
        }
      }),
    );
    if (round > 0) printTables(current, simulator, failures);
    else console.log('first scrape done; rates appear from the second one on');
    previous = current;
    if (rounds !== 0 && round === rounds) break;
    const waitUntil = Date.now() + get.number('interval');
    while (!stop && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 200));
  }
  await client.close();
  await simulator.stop();
  return 0;
}

function printTables(sets: Map<string, MetricSet>, simulator: Simulator, failures: string[]): void {
  const truth = simulator.truth();
  const trueNode = new Map(truth.nodes.map((n) => [n.name, n]));
  const truePod = new Map(truth.pods.map((p) => [`namespace:${p.namespace}/pod:${p.name}`, p]));
  const value = (set: MetricSet, name: string): number | undefined => (set.values[name] === undefined ? undefined : toApproxNumber(set.values[name]!));
  const show = (n: number | undefined, unit: (x: number) => string): string => (n === undefined ? '-' : unit(n));
  const lines = [`\n${new Date().toISOString()}`, `${cell('NODE', 12, false)}${cell('CPU', 10)}${cell('TRUE CPU', 10)}${cell('MEMORY', 12)}${cell('RX/s', 12)}${cell('TX/s', 12)}`];
  for (const set of [...sets.values()].filter((s) => s.type === 'node')) {
    const name = set.labels.nodename!;
    lines.push(
      `${cell(name, 12, false)}${cell(show(value(set, 'cpu/usage_rate'), (x) => `${x}m`), 10)}${cell(`${trueNode.get(name)?.cpuMilliCores ?? '?'}m`, 10)}` +
        `${cell(show(value(set, 'memory/working_set'), formatBytes), 12)}${cell(show(value(set, 'network/rx_rate'), (x) => `${formatBytes(x)}`), 12)}${cell(show(value(set, 'network/tx_rate'), formatBytes), 12)}`,
    );
  }
  const pods = [...sets.values()].filter((s) => s.type === 'pod').sort((a, b) => (value(b, 'cpu/usage_rate') ?? 0) - (value(a, 'cpu/usage_rate') ?? 0)).slice(0, 5);
  lines.push('', `${cell('TOP PODS BY CPU', 44, false)}${cell('CPU', 10)}${cell('TRUE CPU', 10)}${cell('MEMORY', 12)}${cell('RX/s', 12)}`);
  for (const set of pods) {
    lines.push(
      `${cell(`${set.labels.namespace_name}/${set.labels.pod_name}`, 44, false)}${cell(show(value(set, 'cpu/usage_rate'), (x) => `${x}m`), 10)}${cell(`${truePod.get(set.key)?.cpuMilliCores ?? '?'}m`, 10)}` +
        `${cell(show(value(set, 'memory/working_set'), formatBytes), 12)}${cell(show(value(set, 'network/rx_rate'), formatBytes), 12)}`,
    );
  }
  for (const failure of failures) lines.push(`failed: ${failure}`);
  console.log(lines.join('\n'));
}
