/** `podometer simulate`: run the cluster simulator until SIGINT/SIGTERM. */
import { ConfigError, loadRoleConfig, reader, usage, type OptionSpec, type OptionValue } from '../services/common/config.js';
import { FAULTS, type Fault } from './kubelets.js';
import { DEFAULT_SIMULATOR_OPTIONS, Simulator, simulatorOptionProblems, type SimulatorOptions } from './simulator.js';

export const SIMULATE_OPTIONS: readonly OptionSpec[] = [
  { name: 'nodes', type: 'integer', min: 1, max: 60_000, default: DEFAULT_SIMULATOR_OPTIONS.nodes, description: 'Number of nodes.' },
  { name: 'pods-per-node', type: 'integer', min: 0, max: 500, default: DEFAULT_SIMULATOR_OPTIONS.podsPerNode, description: 'Running pods on each node.' },
  { name: 'containers-per-pod', type: 'integer', min: 1, max: 20, default: DEFAULT_SIMULATOR_OPTIONS.containersPerPod, description: 'Containers in each pod.' },
  { name: 'seed', type: 'integer', default: DEFAULT_SIMULATOR_OPTIONS.seed, description: 'Seed: the same seed builds the same cluster.' },
  { name: 'api-port', type: 'integer', min: 0, max: 65535, default: 0, description: 'API server port on 127.0.0.1 (0: any free port).' },
  { name: 'advertise-address', type: 'string', valueName: 'HOST', description: 'Listen on every interface and publish HOST as the nodes\' address (docker-compose: the service name). Default: loopback only.' },
  { name: 'kubelet-port', type: 'integer', min: 0, max: 65535, default: 0, description: 'One port for every kubelet, each at its own 127.10.x.y address (0: a free port each on 127.0.0.1).' },
  { name: 'kubelet-processes', type: 'integer', min: 0, max: 64, default: 0, description: 'Serve the kubelets from this many child processes (0: from the simulator\'s own). For clusters whose kubelets and connections pass one process\'s open-file limit; not with restarts, churn or --replay.' },
  { name: 'kubelet-https', type: 'boolean', default: true, description: 'Serve kubelets over HTTPS with a generated CA (--no-kubelet-https for plain HTTP).' },
  { name: 'kubelet-token', type: 'string', valueName: 'TOKEN', description: 'Require this bearer token on kubelet requests.' },
  { name: 'restarts-per-minute', type: 'number', min: 0, default: 0, description: 'Container restarts per minute across the cluster.' },
  { name: 'churn-per-minute', type: 'number', min: 0, default: 0, description: 'Pods deleted and replaced per minute across the cluster.' },
  { name: 'history', type: 'integer', min: 1, default: DEFAULT_SIMULATOR_OPTIONS.historyLimit, description: 'Watch history kept; older resourceVersions get 410 Gone.' },
  { name: 'fault', type: 'list', valueName: 'KIND[:FRACTION]', default: [], check: checkFault, description: `Fault on a fraction of nodes (default 1 node), repeatable; KIND is one of ${FAULTS.join(', ')}.` },
  { name: 'slow-ms', type: 'integer', min: 0, default: DEFAULT_SIMULATOR_OPTIONS.slowMs, description: 'Delay of the slow fault.' },
  { name: 'replay', type: 'string', valueName: 'DIR', description: 'Serve recorded summaries, one node per *.json file in DIR.' },
  { name: 'state-dir', type: 'string', valueName: 'DIR', default: '.tmp/simulator', description: 'Where kubelet-ca.crt, token and kubeconfig are written.' },
];

export const SIMULATE_HELP = usage(
  'podometer simulate --nodes N --pods-per-node M [--containers-per-pod K] [flags]',
  'Runs a fake Kubernetes API server and one fake kubelet per node on loopback.',
  SIMULATE_OPTIONS,
);

function checkFault(spec: string): string | undefined {
  const [kind, fraction] = spec.split(':');
  if (!FAULTS.includes(kind as Fault)) return `unknown fault "${kind}" (one of ${FAULTS.join(', ')})`;
  if (fraction !== undefined && !(Number(fraction) > 0 && Number(fraction) <= 1)) return 'the fraction must be in (0, 1]';
  return undefined;
}

/** Turns loaded (and so already checked) flags into simulator options. */
export function simulatorOptionsFrom(values: Record<string, OptionValue>): SimulatorOptions {
  const get = reader(values);
  const initialFaults = get.list('fault').map((spec) => {
    const [kind, fraction] = spec.split(':');
    return { fault: kind as Fault, fraction: fraction === undefined ? 1 / get.number('nodes') : Number(fraction) };
  });
  const token = get.optionalString('kubelet-token');
  const replay = get.optionalString('replay');
  return {
    ...DEFAULT_SIMULATOR_OPTIONS,
    nodes: get.number('nodes'),
    podsPerNode: get.number('pods-per-node'),
    containersPerPod: get.number('containers-per-pod'),
    seed: get.number('seed'),
    apiPort: get.number('api-port'),
    kubeletPort: get.number('kubelet-port'),
    kubeletProcesses: get.number('kubelet-processes'),
    https: get.boolean('kubelet-https'),
    restartsPerMinute: get.number('restarts-per-minute'),
    churnPerMinute: get.number('churn-per-minute'),
    historyLimit: get.number('history'),
    slowMs: get.number('slow-ms'),
    initialFaults,
    stateDir: get.string('state-dir'),
    ...(token !== undefined ? { bearerToken: token } : {}),
    ...(replay !== undefined ? { replayDir: replay } : {}),
    ...(get.optionalString('advertise-address') ? { advertiseAddress: get.string('advertise-address') } : {}),
  };
}

export async function runSimulate(argv: readonly string[]): Promise<number> {
  const config = loadRoleConfig(SIMULATE_OPTIONS, argv, SIMULATE_HELP);
  if (!config) return 0;
  const options = simulatorOptionsFrom(config.values);
  const problems = simulatorOptionProblems(options);
  if (problems.length > 0) throw new ConfigError(problems);
  const startedMs = performance.now();
  const simulator = await Simulator.start(options);
  const first = simulator.cluster.nodes[0];
  console.log(
    [
      `simulator ready in ${((performance.now() - startedMs) / 1000).toFixed(1)} s: ${simulator.cluster.nodes.length} nodes, ${simulator.cluster.pods.size} pods`,
      `  API server   ${simulator.apiUrl}   (kubeconfig: ${options.stateDir}/kubeconfig)`,
      `  kubelets     ${first ? simulator.kubeletUrl(first.name) : '(none)'}${simulator.cluster.nodes.length > 1 ? ' ...' : ''}${options.kubeletProcesses > 0 ? `   (served by ${options.kubeletProcesses} child processes)` : ''}`,
      simulator.caPem ? `  kubelet CA   ${options.stateDir}/kubelet-ca.crt` : '  kubelets serve plain HTTP',
      `  control      ${simulator.apiUrl}/simulator/{stats,nodes,truth,faults,restart,pods,expire-history}`,
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await simulator.stop();
  return 0;
}
