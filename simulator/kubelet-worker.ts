/**
 * A kubelet child process (see kubelet-workers.ts): builds the cluster model the primary built,
 * serves the kubelets of its share of the nodes, and answers the primary's requests over IPC.
 * Exits when the primary asks or goes away.
 */
import { SimulatedCluster, type SimNode } from './cluster.js';
import { emptyFleetStats, KubeletFleet } from './kubelets.js';
import type { WorkerReply, WorkerRequest } from './kubelet-workers.js';
import { SummaryRenderer } from './summary-render.js';

let fleet: KubeletFleet | undefined;
/** The nodes this process serves; the rest of the model it built is garbage once they are picked. */
let nodesByName = new Map<string, SimNode>();

const reply = (message: WorkerReply): void => {
  process.send?.(message);
};

async function handle(request: WorkerRequest): Promise<void> {
  switch (request.type) {
    case 'start': {
      const { startMs, ...shape } = request.cluster;
      const cluster = new SimulatedCluster({ ...shape, restartsPerMinute: 0, churnPerMinute: 0, nowMs: () => startMs });
      const renderer = new SummaryRenderer();
      fleet = new KubeletFleet(request.fleet, (node, timeMs) => renderer.render(node, timeMs));
      const mine = cluster.nodes.filter((node) => node.index % request.shards === request.shard);
      nodesByName = new Map(mine.map((node) => [node.name, node]));
      await fleet.start(mine);
      reply({ type: 'started', endpoints: mine.map((n) => ({ name: n.name, address: n.address, port: n.port })) });
      return;
    }
    case 'fault': {
      const node = nodesByName.get(request.node);
      if (!fleet || !node) throw new Error(`no node "${request.node}" here`);
      await fleet.setFault(node, request.fault ?? undefined);
      reply({ type: 'done' });
      return;
    }
    case 'stats': {
      const cpu = process.cpuUsage();
      reply({ type: 'stats', stats: { ...(fleet?.stats ?? emptyFleetStats()), cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system, rssBytes: process.memoryUsage.rss() } });
      return;
    }
    case 'close':
      await fleet?.close();
      process.exit(0);
  }
}

// Requests are handled one at a time, in order, so replies match them.
let queue = Promise.resolve();
process.on('message', (request: WorkerRequest) => {
  queue = queue.then(() => handle(request)).catch((error: unknown) => reply({ type: 'error', message: error instanceof Error ? error.message : String(error) }));
});
process.on('disconnect', () => process.exit(0));
