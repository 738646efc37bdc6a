/**
 * The cluster simulator: a fake API server plus one fake kubelet per node, on loopback.
 * Used by `podometer simulate`, the demo, the end-to-end tests and the benchmark.
 *
 * Control endpoints (on the API server, loopback only):
 *   GET  /simulator/stats                      CPU and memory of this process, summaries served
 *   GET  /simulator/nodes                      every node's kubelet URL and fault
 *   GET  /simulator/truth[?node=N]             the true rates and gauges right now
 *   POST /simulator/faults                     {"nodes":[..]|"fraction":0.1,"fault":"hang"|null}
 *   POST /simulator/restart                    {"namespace","pod","container"?}
 *   POST /simulator/pods                       {"node","namespace"?} -> the new pod
 *   POST /simulator/pods/delete                {"namespace","pod"}
 *   POST /simulator/nodes/ready                {"node","ready":false}
 *   POST /simulator/expire-history             older resourceVersions now get 410 Gone
 *   POST /simulator/drop-watches               ends every open watch
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { FakeApiServer, sendJson, sendStatus } from './apiserver.js';
import { SimulatedCluster, WorkingSetsAt, type SimNode, type SimPod } from './cluster.js';
import { KubeletWorkers } from './kubelet-workers.js';
import { FAULTS, KubeletFleet, nodeLoopbackAddress, type Fault, type FleetStats, type KubeletFleetOptions } from './kubelets.js';
import { SummaryRenderer } from './summary-render.js';
import { SimulatorCa } from './tls.js';

export interface SimulatorOptions {
  nodes: number;
  podsPerNode: number;
  containersPerPod: number;
  seed: number;
  https: boolean;
  bearerToken?: string;
  /** All kubelets on this port at distinct 127.10.x.y addresses; 0: a port each on 127.0.0.1. */
  kubeletPort: number;
  /**
   * 0: serve the kubelets in this process. N: in N child processes (kubelet-workers.ts), for
   * clusters whose sockets pass one process's open-file limit. Not with restarts, churn or replay.
   */
  kubeletProcesses: number;
  /** Serve the API server and kubelets on every interface and publish this host name in Node objects. */
  advertiseAddress?: string;
  apiPort: number;
  restartsPerMinute: number;
  churnPerMinute: number;
  historyLimit: number;
  slowMs: number;
  oversizedBytes: number;
  /** Serve recorded summaries (one node per *.json file) instead of generated ones. */
  replayDir?: string;
  /** Faults applied at start: each to that fraction of nodes (the first ones by name). */
  initialFaults: { fault: Fault; fraction: number }[];
  /** Where to write ca.crt, token and kubeconfig; nothing is written when absent. */
  stateDir?: string;
}

export const DEFAULT_SIMULATOR_OPTIONS: SimulatorOptions = {
  nodes: 5,
  podsPerNode: 10,
  containersPerPod: 1,
  seed: 1,
  https: true,
  kubeletPort: 0,
  kubeletProcesses: 0,
  apiPort: 0,
  restartsPerMinute: 0,
  churnPerMinute: 0,
  historyLimit: 10_000,
  slowMs: 15_000,
  oversizedBytes: 50 * 1024 * 1024,
  initialFaults: [],
};

export interface TruthContainer {
  name: string;
  cpuMilliCores: number;
  workingSetBytes: number;
  startTimeMs: number;
  restartCount: number;
}
export interface TruthPod {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  cpuMilliCores: number;
  workingSetBytes: number;
  rxBytesPerSecond: number;
  txBytesPerSecond: number;
  containers: TruthContainer[];
}
export interface TruthNode {
  name: string;
  cpuMilliCores: number;
  workingSetBytes: number;
  rxBytesPerSecond: number;
  txBytesPerSecond: number;
}

/** What the simulator's control endpoints need of its kubelets, served here or in child processes. */
interface Kubelets {
  url(node: SimNode): string;
  setFault(node: SimNode, fault: Fault | undefined): Promise<void>;
  faultOf(nodeName: string): Fault | undefined;
  close(): Promise<void>;
}

/** The option combinations the simulator cannot run, each as a sentence; empty when it can. */
export function simulatorOptionProblems(options: SimulatorOptions): string[] {
  if (options.kubeletProcesses === 0) return [];
  return [
    ...(options.restartsPerMinute > 0 ? ['--restarts-per-minute needs the kubelets in the simulator\'s own process (--kubelet-processes 0)'] : []),
    ...(options.churnPerMinute > 0 ? ['--churn-per-minute needs the kubelets in the simulator\'s own process (--kubelet-processes 0)'] : []),
    ...(options.replayDir !== undefined ? ['--replay needs the kubelets in the simulator\'s own process (--kubelet-processes 0)'] : []),
  ];
}

export class Simulator {
  readonly cluster: SimulatedCluster;
  /** Kubelets served in this process (kubeletProcesses 0). */
  private readonly fleet: KubeletFleet | undefined;
  /** Kubelets served by child processes (kubeletProcesses > 0). */
  private workers: KubeletWorkers | undefined;
  /** Built once every kubelet listens, so no Node is ever served without its kubelet's port. */
  private apiServer: FakeApiServer | undefined;
  private readonly renderer = new SummaryRenderer();
  private readonly recordings = new Map<string, string>();
  /** The kubelets' CA (PEM) and what they serve, when serving HTTPS. */
  private tls: { caPem: string; serving: NonNullable<KubeletFleetOptions['tls']> } | undefined;
  private ticker: NodeJS.Timeout | undefined;

  private constructor(readonly options: SimulatorOptions) {
    this.cluster = new SimulatedCluster({
      nodes: options.replayDir ? 0 : options.nodes,
      podsPerNode: options.podsPerNode,
      containersPerPod: options.containersPerPod,
      seed: options.seed,
      restartsPerMinute: options.restartsPerMinute,
      churnPerMinute: options.churnPerMinute,
    });
    if (options.kubeletProcesses === 0) this.fleet = new KubeletFleet(this.fleetOptions(), (node, timeMs) => this.recordings.get(node.name) ?? this.renderer.render(node, timeMs));
  }

  private fleetOptions(): KubeletFleetOptions {
    const options = this.options;
    return {
      ...(options.bearerToken !== undefined ? { bearerToken: options.bearerToken } : {}),
      sharedPort: options.kubeletPort,
      ...(options.advertiseAddress !== undefined ? { advertiseAddress: options.advertiseAddress } : {}),
      ...(this.tls ? { tls: this.tls.serving } : {}),
      slowMs: options.slowMs,
      oversizedBytes: options.oversizedBytes,
    };
  }

  private get kubelets(): Kubelets {
    const kubelets = this.fleet ?? this.workers;
    if (!kubelets) throw new Error('the simulator has not started');
    return kubelets;
  }

  /** Builds the cluster, starts every kubelet and the API server. */
  static async start(overrides: Partial<SimulatorOptions> = {}): Promise<Simulator> {
    const options = { ...DEFAULT_SIMULATOR_OPTIONS, ...overrides };
    const problems = simulatorOptionProblems(options);
    if (problems.length > 0) throw new Error(problems.join('; '));
    const simulator = new Simulator(options);
    if (options.replayDir) await simulator.loadRecordings(options.replayDir);
    if (options.https) {
      const ca = await SimulatorCa.create();
      const advertised = options.advertiseAddress;
      const ipAdvertised = advertised !== undefined && /^[\d.]+$/.test(advertised);
      // Kubelets that share an address (a port each) share one certificate; with one port for
      // all, each kubelet has its own address and its own certificate for that address only.
      // (One certificate naming every node's address made each scraper connection parse and keep
      // a certificate that grows with the cluster: ~375 KiB per kept connection at 2,000 nodes.)
      const certPem = await ca.issueServing('simulated-kubelet', ['127.0.0.1', ...(ipAdvertised ? [advertised] : [])], ['localhost', ...(advertised !== undefined && !ipAdvertised ? [advertised] : [])]);
      const certPemByNode: Record<string, string> = {};
      if (options.kubeletPort > 0) {
        // ~2 ms each, in @peculiar/x509's JavaScript (signing them 64 at a time was no faster).
        for (const node of simulator.cluster.nodes) certPemByNode[node.name] = await ca.issueServing(node.name, [nodeLoopbackAddress(node.index)], [node.name]);
      }
      simulator.tls = { caPem: ca.caPem, serving: { certPem, keyPem: ca.servingKeyPem, certPemByNode } };
      simulator.fleet?.serveTls(simulator.tls.serving);
    }
    if (simulator.fleet) await simulator.fleet.start(simulator.cluster.nodes);
    else {
      const { nodes, podsPerNode, containersPerPod, seed } = options;
      simulator.workers = await KubeletWorkers.start(options.kubeletProcesses, simulator.cluster.nodes, {
        cluster: { nodes, podsPerNode, containersPerPod, seed, startMs: simulator.cluster.builtAtMs },
        fleet: simulator.fleetOptions(),
      });
    }
    simulator.apiServer = new FakeApiServer(simulator.cluster, {
      historyLimit: options.historyLimit,
      control: (request, response, body) => simulator.control(request, response, body),
    });
    await simulator.apiServer.listen(options.apiPort, options.advertiseAddress !== undefined ? '0.0.0.0' : '127.0.0.1');
    for (const { fault, fraction } of options.initialFaults) {
      await simulator.setFaultOnFraction(fault, fraction);
    }
    if (options.restartsPerMinute > 0 || options.churnPerMinute > 0) {
      simulator.ticker = setInterval(() => simulator.cluster.tick(), 1000);
      simulator.ticker.unref();
    }
    if (options.stateDir) await simulator.writeState(options.stateDir);
    return simulator;
  }

  /** The CA that signed the kubelets' serving certificate (PEM), when serving HTTPS. */
  get caPem(): string | undefined {
    return this.tls?.caPem;
  }

  get api(): FakeApiServer {
    if (!this.apiServer) throw new Error('the simulator has not started');
    return this.apiServer;
  }

  get apiUrl(): string {
    return this.api.url;
  }

  kubeletUrl(nodeName: string): string {
    return this.kubelets.url(this.node(nodeName));
  }

  node(name: string): SimNode {
    const node = this.cluster.nodesByName.get(name);
    if (!node) throw new Error(`no simulated node "${name}"`);
    return node;
  }

  async setFault(nodeName: string, fault: Fault | undefined): Promise<void> {
    await this.kubelets.setFault(this.node(nodeName), fault);
  }

  /** Puts `fault` on the first ceil(fraction * nodes) nodes; returns their names. */
  async setFaultOnFraction(fault: Fault, fraction: number): Promise<string[]> {
    const count = Math.ceil(fraction * this.cluster.nodes.length);
    const chosen = this.cluster.nodes.slice(0, count);
    for (const node of chosen) await this.kubelets.setFault(node, fault);
    return chosen.map((n) => n.name);
  }

  /** True rates and gauges at `timeMs` (a whole second, as kubelets report). */
  truth(timeMs = Date.now(), nodeName?: string): { timeMs: number; nodes: TruthNode[]; pods: TruthPod[] } {
    const at = new WorkingSetsAt(Math.floor(timeMs / 1000) * 1000);
    const nodes = nodeName ? [this.node(nodeName)] : this.cluster.nodes;
    const pods: TruthPod[] = [];
    const truthNodes = nodes.map((node) => {
      for (const pod of node.pods.values()) pods.push(podTruth(pod, at));
      return {
        name: node.name,
        cpuMilliCores: SimulatedCluster.nodeCpuMilliCores(node),
        workingSetBytes: at.node(node),
        rxBytesPerSecond: node.rx.rate,
        txBytesPerSecond: node.tx.rate,
      };
    });
    return { timeMs: at.timeMs, nodes: truthNodes, pods };
  }

  /** Counters, CPU (microseconds) and RSS (bytes) of this process and its kubelet processes together. */
  async stats(): Promise<Record<string, number>> {
    const cpu = process.cpuUsage();
    const workers = await this.workers?.stats();
    const served: FleetStats = this.fleet?.stats ?? workers!;
    return {
      cpuUserMicros: cpu.user + (workers?.cpuUserMicros ?? 0),
      cpuSystemMicros: cpu.system + (workers?.cpuSystemMicros ?? 0),
      rssBytes: process.memoryUsage.rss() + (workers?.rssBytes ?? 0),
      nodes: this.cluster.nodes.length,
      pods: this.cluster.pods.size,
      resourceVersion: this.cluster.resourceVersion,
      activeWatches: this.api.activeWatches,
      kubeletProcesses: this.options.kubeletProcesses,
      summariesServed: served.summariesServed,
      bytesServed: served.bytesServed,
      faultsServed: served.faultsServed,
      unauthorized: served.unauthorized,
      connectionsAccepted: served.connectionsAccepted,
    };
  }

  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    await this.apiServer?.close();
    await this.fleet?.close();
    await this.workers?.close();
  }

  private async loadRecordings(dir: string): Promise<void> {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    if (files.length === 0) throw new Error(`--replay ${dir}: no *.json summary files there`);
    for (const file of files) {
      const text = await readFile(join(dir, file), 'utf8');
      let document: { node?: { nodeName?: string }; pods?: { podRef?: { name?: string; namespace?: string; uid?: string }; containers?: { name?: string }[] }[] };
      try {
        document = JSON.parse(text) as typeof document;
      } catch (error) {
        throw new Error(`--replay ${join(dir, file)}: not JSON: ${(error as Error).message}`);
      }
      let name = document.node?.nodeName || file.replace(/\.json$/, '');
      while (this.cluster.nodesByName.has(name)) name = `${name}-${this.cluster.nodes.length}`;
      const pods = (document.pods ?? []).flatMap((p) =>
        p.podRef?.name && p.podRef.namespace
          ? [{ namespace: p.podRef.namespace, name: p.podRef.name, uid: p.podRef.uid ?? '', containers: (p.containers ?? []).map((c) => c.name ?? '') }]
          : [],
      );
      this.cluster.addRecordedNode(name, pods);
      this.recordings.set(name, text);
    }
  }

  private async writeState(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    if (this.tls) await writeFile(join(dir, 'kubelet-ca.crt'), this.tls.caPem);
    if (this.options.bearerToken !== undefined) await writeFile(join(dir, 'token'), this.options.bearerToken, { mode: 0o600 });
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: podometer-simulator',
      `  cluster: {server: "${this.apiUrl}"}`,
      'users:',
      '- name: simulator',
      '  user: {}',
      'contexts:',
      '- name: podometer-simulator',
      '  context: {cluster: podometer-simulator, user: simulator}',
      'current-context: podometer-simulator',
      '',
    ].join('\n');
    await writeFile(join(dir, 'kubeconfig'), kubeconfig);
  }

  private async control(request: IncomingMessage, response: ServerResponse, body: string): Promise<boolean> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const route = `${request.method} ${url.pathname.replace(/\/+$/, '')}`;
    let input: Record<string, unknown> = {};
    if (body) {
      try {
        input = JSON.parse(body) as Record<string, unknown>;
      } catch {
        sendStatus(response, 400, 'BadRequest', 'body must be JSON');
        return true;
      }
    }
    if (this.workers && KUBELET_CHANGING_ROUTES.includes(route)) {
      sendStatus(response, 409, 'Conflict', `${route} changes what kubelets serve, which the simulator cannot do with --kubelet-processes > 0`);
      return true;
    }
    try {
      switch (route) {
        case 'GET /simulator/stats':
          sendJson(response, 200, await this.stats());
          return true;
        case 'GET /simulator/nodes':
          sendJson(response, 200, this.cluster.nodes.map((n) => ({ name: n.name, url: this.kubelets.url(n), fault: this.kubelets.faultOf(n.name) ?? null, ready: n.ready })));
          return true;
        case 'GET /simulator/truth':
          sendJson(response, 200, this.truth(Date.now(), url.searchParams.get('node') ?? undefined));
          return true;
        case 'POST /simulator/faults': {
          const fault = input.fault === null ? undefined : (input.fault as Fault);
          if (fault !== undefined && !FAULTS.includes(fault)) throw new Error(`fault must be one of ${FAULTS.join(', ')} or null`);
          let names: string[];
          if (Array.isArray(input.nodes)) {
            names = input.nodes.map(String);
            for (const name of names) await this.setFault(name, fault);
          } else if (typeof input.fraction === 'number' && fault) {
            names = await this.setFaultOnFraction(fault, input.fraction);
          } else throw new Error('give "nodes": [names] or "fraction" with a fault');
          sendJson(response, 200, { nodes: names, fault: fault ?? null });
          return true;
        }
        case 'POST /simulator/restart': {
          const container = this.cluster.restartContainer(String(input.namespace), String(input.pod), input.container === undefined ? undefined : String(input.container));
          sendJson(response, 200, { container: container.name, startTimeMs: container.startTimeMs, restartCount: container.restartCount });
          return true;
        }
        case 'POST /simulator/pods': {
          const pod = this.cluster.addPod(String(input.node), input.namespace === undefined ? undefined : String(input.namespace));
          sendJson(response, 201, podTruth(pod, new WorkingSetsAt(Math.floor(Date.now() / 1000) * 1000)));
          return true;
        }
        case 'POST /simulator/pods/delete': {
          const pod = this.cluster.deletePod(String(input.namespace), String(input.pod));
          if (!pod) sendStatus(response, 404, 'NotFound', `no pod ${String(input.namespace)}/${String(input.pod)}`);
          else sendJson(response, 200, { deleted: `${pod.namespace}/${pod.name}` });
          return true;
        }
        case 'POST /simulator/nodes/ready':
          this.cluster.setNodeReady(String(input.node), input.ready === true);
          sendJson(response, 200, { node: input.node, ready: input.ready === true });
          return true;
        case 'POST /simulator/expire-history':
          this.api.expireHistory();
          sendJson(response, 200, { oldestWatchableResourceVersion: this.cluster.resourceVersion + 1 });
          return true;
        case 'POST /simulator/drop-watches':
          this.api.dropWatches();
          sendJson(response, 200, { dropped: true });
          return true;
        default:
          return false;
      }
    } catch (error) {
      sendStatus(response, 400, 'BadRequest', (error as Error).message);
      return true;
    }
  }
}

/** Control routes that change what kubelets serve: not available with kubelet processes. */
const KUBELET_CHANGING_ROUTES = ['POST /simulator/restart', 'POST /simulator/pods', 'POST /simulator/pods/delete'];

function podTruth(pod: SimPod, at: WorkingSetsAt): TruthPod {
  return {
    namespace: pod.namespace,
    name: pod.name,
    uid: pod.uid,
    node: pod.nodeName ?? '',
    cpuMilliCores: SimulatedCluster.podCpuMilliCores(pod),
    workingSetBytes: at.pod(pod),
    rxBytesPerSecond: pod.rxBytesPerSecond,
    txBytesPerSecond: pod.txBytesPerSecond,
    containers: pod.containers.map((c) => ({
      name: c.name,
      cpuMilliCores: c.cpuMilliCores,
      workingSetBytes: at.container(c),
      startTimeMs: c.startTimeMs,
      restartCount: c.restartCount,
    })),
  };
}
