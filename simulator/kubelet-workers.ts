/**
 * Kubelets spread over child processes. One process serving every kubelet holds a listening socket
 * per node plus a connection per node and scraper; at 10,000 nodes and two scrapers that passes
 * the open-file limit of one process (20,000 on the benchmark machine, hard). With `--kubelet-processes
 * N` the simulator's own process keeps the cluster model and the API server, and N children each
 * serve the kubelets of the nodes whose index is congruent to their number modulo N.
 *
 * Each child builds the same cluster from the same seed and start time (the model is
 * deterministic), so it serves what the API server lists. Changes that alter what kubelets serve
 * (restarts, churn, pods added or deleted) would have to be replayed in every child in the same
 * order; they are not supported with children. Faults are forwarded to the node's child.
 *
 * Protocol (IPC, one request at a time per child, answered in order):
 *   primary -> child  {type:'start', ...}          child -> {type:'started', endpoints}
 *   primary -> child  {type:'fault', node, fault}   child -> {type:'done'}
 *   primary -> child  {type:'stats'}                child -> {type:'stats', stats}
 *   primary -> child  {type:'close'}                child exits
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { SimNode } from './cluster.js';
import { emptyFleetStats, kubeletUrl, type Fault, type FleetStats, type KubeletFleetOptions } from './kubelets.js';

export interface WorkerStartMessage {
  type: 'start';
  shard: number;
  shards: number;
  cluster: { nodes: number; podsPerNode: number; containersPerPod: number; seed: number; startMs: number };
  fleet: KubeletFleetOptions;
}
export type WorkerRequest = WorkerStartMessage | { type: 'fault'; node: string; fault: Fault | null } | { type: 'stats' } | { type: 'close' };

/** A child's fleet counters plus its process's CPU (microseconds) and RSS (bytes). */
export interface WorkerStats extends FleetStats {
  cpuUserMicros: number;
  cpuSystemMicros: number;
  rssBytes: number;
}
export type WorkerReply =
  | { type: 'started'; endpoints: { name: string; address: string; port: number }[] }
  | { type: 'done' }
  | { type: 'stats'; stats: WorkerStats }
  | { type: 'error'; message: string };

const WORKER_MODULE = new URL('./kubelet-worker.js', import.meta.url);

class Worker {
  private readonly pending: { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void }[] = [];
  private exitError: Error | undefined;
  private closing = false;

  constructor(readonly shard: number, private readonly child: ChildProcess) {
    child.on('message', (reply: WorkerReply) => {
      const waiter = this.pending.shift();
      if (!waiter) return;
      if (reply.type === 'error') waiter.reject(new Error(`kubelet process ${shard}: ${reply.message}`));
      else waiter.resolve(reply);
    });
    child.once('exit', (code, signal) => {
      this.exitError = new Error(`kubelet process ${shard} exited (${code ?? signal})`);
      // Its nodes' kubelets are gone: say so where the simulator's operator looks.
      if (!this.closing) console.error(`simulator: ${this.exitError.message}; its kubelets no longer answer`);
      for (const waiter of this.pending.splice(0)) waiter.reject(this.exitError);
    });
  }

  request(message: WorkerRequest): Promise<WorkerReply> {
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.send(message);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'close' } satisfies WorkerRequest);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

export class KubeletWorkers {
  private readonly faults = new Map<string, Fault>();

  private constructor(
    private readonly workers: Worker[],
    private readonly scheme: 'http' | 'https',
  ) {}

  /**
   * Forks `count` children, has each start its share of the kubelets, and writes every node's
   * address and port into `nodes` (the primary's model, which the API server publishes).
   */
  static async start(count: number, nodes: readonly SimNode[], start: Omit<WorkerStartMessage, 'type' | 'shard' | 'shards'>): Promise<KubeletWorkers> {
    // stderr is inherited: a child's serve errors reach the simulator's own stderr.
    const workers = Array.from({ length: count }, (_, shard) => new Worker(shard, fork(WORKER_MODULE, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })));
    const fleet = new KubeletWorkers(workers, start.fleet.tls ? 'https' : 'http');
    try {
      const replies = await Promise.all(workers.map((w) => w.request({ type: 'start', shard: w.shard, shards: count, ...start })));
      const byName = new Map(nodes.map((n) => [n.name, n]));
      for (const reply of replies) {
        if (reply.type !== 'started') throw new Error(`unexpected reply ${reply.type} to start`);
        for (const endpoint of reply.endpoints) {
          const node = byName.get(endpoint.name);
          if (!node) throw new Error(`a kubelet process serves "${endpoint.name}", which the cluster does not have: the models differ`);
          node.address = endpoint.address;
          node.port = endpoint.port;
        }
      }
      const unserved = nodes.filter((n) => n.port === 0);
      if (unserved.length > 0) throw new Error(`no kubelet process serves ${unserved.length} nodes (first: ${unserved[0]!.name})`);
      return fleet;
    } catch (error) {
      await fleet.close();
      throw error;
    }
  }

  url(node: SimNode): string {
    return kubeletUrl(this.scheme, node);
  }

  async setFault(node: SimNode, fault: Fault | undefined): Promise<void> {
    await this.workers[node.index % this.workers.length]!.request({ type: 'fault', node: node.name, fault: fault ?? null });
    if (fault) this.faults.set(node.name, fault);
    else this.faults.delete(node.name);
  }

  faultOf(nodeName: string): Fault | undefined {
    return this.faults.get(nodeName);
  }

  /** The children's counters, CPU and RSS, summed. */
  async stats(): Promise<WorkerStats> {
    const total: WorkerStats = { ...emptyFleetStats(), cpuUserMicros: 0, cpuSystemMicros: 0, rssBytes: 0 };
    for (const reply of await Promise.all(this.workers.map((w) => w.request({ type: 'stats' })))) {
      if (reply.type !== 'stats') continue;
      for (const key of Object.keys(total) as (keyof WorkerStats)[]) total[key] += reply.stats[key];
    }
    return total;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
