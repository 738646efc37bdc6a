/**
 * The simulated cluster: nodes, pods, containers, namespaces and events, with counters that
 * advance with the clock so the true rates are known exactly.
 *
 * Contract for tests (the "ground truth"):
 * - A container's CPU counter grows at exactly `cpuMilliCores` (1000 * ns per ns); it restarts
 *   from zero with a new start time on a container restart.
 * - A pod's CPU counter grows at the sum of its containers' rates and never resets; its network
 *   counters grow at `rxBytesPerSecond` / `txBytesPerSecond` from the pod's start.
 * - A node's counters grow at the sum of its pods' rates plus its system containers'; they are
 *   integrated piecewise whenever the pod set changes, so they never go down. Node CPU counters
 *   start from the node's uptime (days), so they pass 2^53 and are carried exactly as bigint.
 * - Gauges (working set, usage, rss) are smooth functions of time: `WorkingSetsAt`.
 * Every sample time is a whole second, as the kubelet reports it.
 */
/** Seeded PRNG (mulberry32): the same seed builds the same cluster. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  hex(length: number): string {
    let out = '';
    while (out.length < length) out += Math.floor(this.next() * 0x100000000).toString(16).padStart(8, '0');
    return out.slice(0, length);
  }
  /** Kubernetes' random suffix alphabet (no vowels). */
  suffix(length: number): string {
    const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }
}

export const wholeSecond = (ms: number): number => Math.floor(ms / 1000) * 1000;

export interface SimContainer {
  readonly name: string;
  readonly image: string;
  startTimeMs: number;
  restartCount: number;
  /** True CPU rate. */
  readonly cpuMilliCores: number;
  readonly workingSetBaseBytes: number;
  readonly pageFaultsPerSecond: number;
  readonly requests: { cpuMilliCores: number; memoryBytes: number; ephemeralBytes?: number };
  readonly limits: { cpuMilliCores?: number; memoryBytes?: number };
  readonly rootfsUsedBytes: number;
  readonly logsUsedBytes: number;
}

/**
 * Working sets at one time: a container's is a slow wave of +-5 % around its base; a pod's is the
 * sum of its containers'; a node's adds its system containers'. Each is computed once per
 * instance, since a summary (and the ground truth) reads each of them several times.
 */
export class WorkingSetsAt {
  private readonly memo = new Map<object, number>();
  constructor(readonly timeMs: number) {}

  container(container: SimContainer): number {
    let ws = this.memo.get(container);
    if (ws === undefined) {
      const phase = (container.workingSetBaseBytes % 997) / 997;
      ws = Math.round(container.workingSetBaseBytes * (1 + 0.05 * Math.sin(2 * Math.PI * (this.timeMs / 600_000 + phase))));
      this.memo.set(container, ws);
    }
    return ws;
  }

  pod(pod: SimPod): number {
    let ws = this.memo.get(pod);
    if (ws === undefined) {
      ws = 0;
      for (const c of pod.containers) ws += this.container(c);
      this.memo.set(pod, ws);
    }
    return ws;
  }

  node(node: SimNode): number {
    let ws = this.memo.get(node);
    if (ws === undefined) {
      ws = node.systemWorkingSetBytes;
      for (const pod of node.pods.values()) ws += this.pod(pod);
      this.memo.set(node, ws);
    }
    return ws;
  }
}

export interface SimPod {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly app: string;
  readonly replicaSet: string;
  readonly replicaSetUid: string;
  nodeName: string | undefined;
  readonly createdMs: number;
  readonly startTimeMs: number;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  readonly containers: SimContainer[];
  readonly rxBytesPerSecond: number;
  readonly txBytesPerSecond: number;
  readonly volumes: { name: string; usedBytes: number }[];
  readonly ip: string;
  resourceVersion: number;
  deleted?: boolean;
}

/** A counter integrated piecewise: value(t) = base + rate * (t - sinceMs), rate per second. */
export class Accumulator {
  private baseValue: bigint;
  private sinceMs: number;
  private perSecond: number;
  constructor(initial: bigint, sinceMs: number, perSecond: number) {
    this.baseValue = initial;
    this.sinceMs = sinceMs;
    this.perSecond = perSecond;
  }
  valueAt(timeMs: number): bigint {
    return this.baseValue + BigInt(Math.round((this.perSecond * (timeMs - this.sinceMs)) / 1000));
  }
  get rate(): number {
    return this.perSecond;
  }
  /** Changes the rate from `atMs` on without any jump in the value. */
  setRate(perSecond: number, atMs: number): void {
    this.baseValue = this.valueAt(atMs);
    this.sinceMs = atMs;
    this.perSecond = perSecond;
  }
}

export interface SimNode {
  readonly name: string;
  readonly uid: string;
  readonly index: number;
  /** Where its kubelet listens; filled in by the kubelet fleet. */
  address: string;
  port: number;
  readonly startTimeMs: number;
  readonly capacity: { cpuMilliCores: number; memoryBytes: number; pods: number; ephemeralBytes: number };
  readonly allocatable: { cpuMilliCores: number; memoryBytes: number; pods: number; ephemeralBytes: number };
  ready: boolean;
  readonly pods: Map<string, SimPod>;
  /** ns of CPU; rate = 1e6 * millicores per second. */
  readonly cpu: Accumulator;
  readonly rx: Accumulator;
  readonly tx: Accumulator;
  readonly pageFaults: Accumulator;
  readonly systemCpuMilliCores: number;
  readonly systemWorkingSetBytes: number;
  resourceVersion: number;
  /** Bumped whenever what the summary template holds changes (pods, restarts). */
  layoutVersion: number;
}

export interface SimNamespace {
  readonly name: string;
  readonly uid: string;
  readonly createdMs: number;
  resourceVersion: number;
}

export interface SimEvent {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly reason: string;
  readonly message: string;
  readonly type: 'Normal' | 'Warning';
  readonly involved: { kind: string; name: string; namespace: string; uid: string; fieldPath?: string };
  readonly source: { component: string; host?: string };
  readonly firstTimestampMs: number;
  lastTimestampMs: number;
  count: number;
  resourceVersion: number;
}

export type ResourceKind = 'nodes' | 'pods' | 'namespaces' | 'events';
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  readonly resourceVersion: number;
  readonly kind: ResourceKind;
  readonly type: WatchEventType;
  readonly namespace: string | undefined;
  readonly object: SimNode | SimPod | SimNamespace | SimEvent;
}

export interface ClusterOptions {
  nodes: number;
  podsPerNode: number;
  containersPerPod: number;
  seed: number;
  /** Container restarts per minute across the cluster. */
  restartsPerMinute: number;
  /** Pods deleted and replaced per minute across the cluster. */
  churnPerMinute: number;
  nowMs?: () => number;
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const APPS = ['web', 'api', 'worker', 'cache', 'queue', 'auth', 'search', 'billing', 'ingest', 'report'];
const IMAGES: Record<string, string> = {
  web: 'nginx:1.27', api: 'ghcr.io/example/api:2.4.1', worker: 'ghcr.io/example/worker:2.4.1', cache: 'redis:7.2',
  queue: 'rabbitmq:3.13', auth: 'ghcr.io/example/auth:1.9', search: 'opensearch:2.15', billing: 'ghcr.io/example/billing:3.0',
  ingest: 'fluent/fluent-bit:3.1', report: 'python:3.12-slim',
};

export class SimulatedCluster {
  readonly nodes: SimNode[] = [];
  readonly nodesByName = new Map<string, SimNode>();
  /** Every pod the API knows, by `namespace/name`. */
  readonly pods = new Map<string, SimPod>();
  readonly namespaces = new Map<string, SimNamespace>();
  readonly events = new Map<string, SimEvent>();
  resourceVersion = 1;
  private readonly listeners = new Set<(change: Change) => void>();
  private readonly random: Random;
  private readonly now: () => number;
  private restartBudget = 0;
  private churnBudget = 0;
  private lastTickMs: number;
  /** The time the cluster was built at (a whole second): with the seed, it fixes the whole model. */
  readonly builtAtMs: number;

  constructor(readonly options: ClusterOptions) {
    this.random = new Random(options.seed);
    this.now = options.nowMs ?? Date.now;
    const nowMs = wholeSecond(this.now());
    this.builtAtMs = nowMs;
    this.lastTickMs = nowMs;
    const teamCount = Math.max(2, Math.min(12, Math.ceil((options.nodes * options.podsPerNode) / 500)));
    for (const name of ['default', 'kube-system', ...Array.from({ length: teamCount }, (_, i) => `team-${i + 1}`)]) {
      this.addNamespace(name, nowMs - 40 * 86_400_000);
    }
    for (let i = 0; i < options.nodes; i++) this.addNode(i, nowMs);
    const namespaces = [...this.namespaces.keys()].filter((n) => n !== 'default');
    for (const node of this.nodes) {
      for (let p = 0; p < options.podsPerNode; p++) {
        const namespace = namespaces[(node.index * options.podsPerNode + p) % namespaces.length]!;
        this.createPod(node, namespace, nowMs - this.random.int(600, 20 * 86_400) * 1000, false);
      }
    }
    // Pods the API knows that no kubelet reports: pending (no node) and finished ones.
    this.createPod(undefined, 'default', nowMs - 120_000, false, 'Pending');
    if (this.nodes[0]) this.createPod(this.nodes[0], 'default', nowMs - 3_600_000, false, 'Succeeded');
  }

  // ---- ground truth -------------------------------------------------------------------------

  static containerCpuNanoSeconds(container: SimContainer, timeMs: number): number {
    return Math.round(container.cpuMilliCores * 1000 * (timeMs - container.startTimeMs));
  }

  static podCpuMilliCores(pod: SimPod): number {
    return pod.containers.reduce((sum, c) => sum + c.cpuMilliCores, 0);
  }

  /** True CPU rate of a node in millicores (pods plus system containers). */
  static nodeCpuMilliCores(node: SimNode): number {
    return node.cpu.rate / 1e6;
  }

  // ---- changes --------------------------------------------------------------------------------

  onChange(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(kind: ResourceKind, type: WatchEventType, object: Change['object'], namespace?: string): void {
    const resourceVersion = ++this.resourceVersion;
    object.resourceVersion = resourceVersion;
    const change: Change = { resourceVersion, kind, type, namespace, object };
    for (const listener of this.listeners) listener(change);
  }

  private addNamespace(name: string, createdMs: number): void {
    const namespace: SimNamespace = { name, uid: randomUUIDFrom(this.random), createdMs, resourceVersion: 0 };
    this.namespaces.set(name, namespace);
    this.record('namespaces', 'ADDED', namespace);
  }

  private addNode(index: number, nowMs: number, fixedName?: string): void {
    const name = fixedName ?? `node-${String(index + 1).padStart(5, '0')}`;
    const cores = this.random.pick([4, 8, 16, 32, 64, 96]);
    const memoryBytes = cores * 4 * GIB;
    const startTimeMs = nowMs - this.random.int(1, 40) * 86_400_000 - this.random.int(0, 86_399) * 1000;
    const systemCpuMilliCores = this.random.int(50, 250);
    const systemWorkingSetBytes = this.random.int(300, 900) * MIB;
    // The counter holds what the node used since boot at about a quarter of its cores.
    const uptimeSeconds = BigInt(Math.floor((nowMs - startTimeMs) / 1000));
    const node: SimNode = {
      name,
      uid: randomUUIDFrom(this.random),
      index,
      address: '127.0.0.1',
      port: 0,
      startTimeMs,
      capacity: { cpuMilliCores: cores * 1000, memoryBytes, pods: 110, ephemeralBytes: 200 * GIB },
      allocatable: { cpuMilliCores: cores * 1000 - 200, memoryBytes: memoryBytes - GIB, pods: 110, ephemeralBytes: 180 * GIB },
      ready: true,
      pods: new Map(),
      cpu: new Accumulator(uptimeSeconds * BigInt(cores) * 250_000_000n, nowMs, systemCpuMilliCores * 1e6),
      rx: new Accumulator(uptimeSeconds * 40_000n, nowMs, 2000),
      tx: new Accumulator(uptimeSeconds * 30_000n, nowMs, 1500),
      pageFaults: new Accumulator(uptimeSeconds * 900n, nowMs, 50),
      systemCpuMilliCores,
      systemWorkingSetBytes,
      resourceVersion: 0,
      layoutVersion: 0,
    };
    this.nodes.push(node);
    this.nodesByName.set(name, node);
    this.record('nodes', 'ADDED', node);
  }

  private createPod(
    node: SimNode | undefined,
    namespace: string,
    startTimeMs: number,
    announce: boolean,
    phase: SimPod['phase'] = 'Running',
    recorded?: { name: string; uid: string; containers: readonly string[] },
  ): SimPod {
    const r = this.random;
    const app = r.pick(APPS);
    const hash = r.suffix(10).slice(0, 9);
    const replicaSet = `${app}-${hash}`;
    let name = recorded?.name ?? `${replicaSet}-${r.suffix(5)}`;
    while (!recorded && this.pods.has(`${namespace}/${name}`)) name = `${replicaSet}-${r.suffix(5)}`;
    const containers: SimContainer[] = [];
    const containerCount = recorded ? recorded.containers.length : this.options.containersPerPod;
    for (let c = 0; c < containerCount; c++) {
      const cpuMilliCores = r.int(50, 800);
      const workingSetBaseBytes = r.int(32, 1024) * MIB;
      const requestMilli = r.pick([50, 100, 250, 500]);
      const requestMemory = r.pick([64, 128, 256, 512]) * MIB;
      containers.push({
        name: recorded ? recorded.containers[c]! : c === 0 ? app : `sidecar-${c}`,
        image: c === 0 ? IMAGES[app]! : 'envoyproxy/envoy:v1.31',
        startTimeMs,
        restartCount: 0,
        cpuMilliCores,
        workingSetBaseBytes,
        pageFaultsPerSecond: r.int(1, 200),
        requests: { cpuMilliCores: requestMilli, memoryBytes: requestMemory, ...(c === 0 ? { ephemeralBytes: GIB } : {}) },
        limits: c % 2 === 0 ? { cpuMilliCores: requestMilli * 4, memoryBytes: requestMemory * 4 } : { memoryBytes: requestMemory * 2 },
        rootfsUsedBytes: r.int(1, 200) * 4096 * 16,
        logsUsedBytes: r.int(1, 500) * 4096,
      });
    }
    const pod: SimPod = {
      uid: recorded?.uid ?? randomUUIDFrom(r),
      name,
      namespace,
      app,
      replicaSet,
      replicaSetUid: randomUUIDFrom(r),
      nodeName: phase === 'Pending' ? undefined : node?.name,
      createdMs: startTimeMs - 2000,
      startTimeMs,
      phase,
      containers,
      rxBytesPerSecond: r.int(1, 500) * 1024,
      txBytesPerSecond: r.int(1, 300) * 1024,
      volumes: [{ name: `kube-api-access-${r.suffix(5)}`, usedBytes: 12288 }],
      ip: `10.${(node?.index ?? 0) >> 8 & 255}.${(node?.index ?? 0) & 255}.${r.int(2, 254)}`,
      resourceVersion: 0,
    };
    this.pods.set(`${namespace}/${name}`, pod);
    if (node && phase === 'Running') {
      const atMs = wholeSecond(this.now());
      node.pods.set(pod.uid, pod);
      this.retuneNode(node, atMs);
    }
    this.record('pods', 'ADDED', pod, namespace);
    if (announce && node) {
      const at = wholeSecond(this.now());
      this.emitPodEvent(pod, 'Scheduled', `Successfully assigned ${namespace}/${name} to ${node.name}`, 'Normal', { component: 'default-scheduler' }, at);
      for (const c of containers) {
        this.emitPodEvent(pod, 'Pulled', `Container image "${c.image}" already present on machine`, 'Normal', { component: 'kubelet', host: node.name }, at, c.name);
        this.emitPodEvent(pod, 'Created', `Created container ${c.name}`, 'Normal', { component: 'kubelet', host: node.name }, at, c.name);
        this.emitPodEvent(pod, 'Started', `Started container ${c.name}`, 'Normal', { component: 'kubelet', host: node.name }, at, c.name);
      }
    }
    return pod;
  }

  /** Sets the node's counter rates to what its pods and system containers use now. */
  private retuneNode(node: SimNode, atMs: number): void {
    let cpuMilli = node.systemCpuMilliCores;
    let rx = 2000;
    let tx = 1500;
    let faults = 50;
    for (const pod of node.pods.values()) {
      cpuMilli += SimulatedCluster.podCpuMilliCores(pod);
      rx += pod.rxBytesPerSecond;
      tx += pod.txBytesPerSecond;
      for (const c of pod.containers) faults += c.pageFaultsPerSecond;
    }
    node.cpu.setRate(cpuMilli * 1e6, atMs);
    node.rx.setRate(rx, atMs);
    node.tx.setRate(tx, atMs);
    node.pageFaults.setRate(faults, atMs);
    node.layoutVersion++;
  }

  /**
   * Adds a node whose summary is served from a recording (replay mode), with the pods the
   * recording names, so that the API server and the kubelet agree on who runs where.
   */
  addRecordedNode(name: string, pods: readonly { namespace: string; name: string; uid: string; containers: readonly string[] }[]): SimNode {
    const nowMs = wholeSecond(this.now());
    this.addNode(this.nodes.length, nowMs, name);
    const node = this.nodes[this.nodes.length - 1]!;
    for (const recorded of pods) {
      if (!this.namespaces.has(recorded.namespace)) this.addNamespace(recorded.namespace, nowMs - 86_400_000);
      this.createPod(node, recorded.namespace, nowMs - 3_600_000, false, 'Running', {
        name: recorded.name,
        uid: recorded.uid,
        containers: recorded.containers,
      });
    }
    return node;
  }

  /** Deletes a pod (watch DELETED, a Killing event) and returns it. */
  deletePod(namespace: string, name: string): SimPod | undefined {
    const pod = this.pods.get(`${namespace}/${name}`);
    if (!pod) return undefined;
    this.pods.delete(`${namespace}/${name}`);
    pod.deleted = true;
    const node = pod.nodeName ? this.nodesByName.get(pod.nodeName) : undefined;
    const at = wholeSecond(this.now());
    if (node?.pods.delete(pod.uid)) this.retuneNode(node, at);
    for (const c of pod.containers) {
      this.emitPodEvent(pod, 'Killing', `Stopping container ${c.name}`, 'Normal', { component: 'kubelet', host: pod.nodeName }, at, c.name);
    }
    this.record('pods', 'DELETED', pod, namespace);
    return pod;
  }

  /** Creates a new running pod on a node, with its scheduling and start events. */
  addPod(nodeName: string, namespace = 'team-1'): SimPod {
    const node = this.nodesByName.get(nodeName);
    if (!node) throw new Error(`no node ${nodeName}`);
    if (!this.namespaces.has(namespace)) this.addNamespace(namespace, wholeSecond(this.now()));
    return this.createPod(node, namespace, wholeSecond(this.now()), true);
  }

  /** Restarts one container: its counters start again from zero at a new start time. */
  restartContainer(namespace: string, podName: string, containerName?: string): SimContainer {
    const pod = this.pods.get(`${namespace}/${podName}`);
    if (!pod) throw new Error(`no pod ${namespace}/${podName}`);
    const container = containerName ? pod.containers.find((c) => c.name === containerName) : pod.containers[0];
    if (!container) throw new Error(`no container ${containerName} in ${namespace}/${podName}`);
    const at = wholeSecond(this.now());
    container.startTimeMs = at;
    container.restartCount++;
    const node = pod.nodeName ? this.nodesByName.get(pod.nodeName) : undefined;
    if (node) node.layoutVersion++;
    this.record('pods', 'MODIFIED', pod, namespace);
    const host = { component: 'kubelet', host: pod.nodeName };
    this.emitPodEvent(pod, 'BackOff', `Back-off restarting failed container ${container.name} in pod ${podName}`, 'Warning', host, at, container.name, true);
    this.emitPodEvent(pod, 'Started', `Started container ${container.name}`, 'Normal', host, at, container.name, true);
    return container;
  }

  setNodeReady(nodeName: string, ready: boolean): void {
    const node = this.nodesByName.get(nodeName);
    if (!node) throw new Error(`no node ${nodeName}`);
    node.ready = ready;
    this.record('nodes', 'MODIFIED', node);
  }

  /**
   * An event about a pod. With `fold`, a repeat of the same reason on the same object bumps the
   * existing event's count and lastTimestamp (watch MODIFIED), as the kubelet's recorder does.
   */
  private emitPodEvent(pod: SimPod, reason: string, message: string, type: SimEvent['type'], source: SimEvent['source'], atMs: number, container?: string, fold = false): void {
    const fieldPath = container ? `spec.containers{${container}}` : undefined;
    const foldKey = `${pod.namespace}/${pod.name}/${reason}/${fieldPath ?? ''}`;
    if (fold) {
      const existing = this.events.get(foldKey);
      if (existing) {
        existing.count++;
        existing.lastTimestampMs = atMs;
        this.record('events', 'MODIFIED', existing, existing.namespace);
        return;
      }
    }
    const event: SimEvent = {
      name: `${pod.name}.${this.random.hex(16)}`,
      namespace: pod.namespace,
      uid: randomUUIDFrom(this.random),
      reason,
      message,
      type,
      involved: { kind: 'Pod', name: pod.name, namespace: pod.namespace, uid: pod.uid, ...(fieldPath ? { fieldPath } : {}) },
      source,
      firstTimestampMs: atMs,
      lastTimestampMs: atMs,
      count: 1,
      resourceVersion: 0,
    };
    this.events.set(fold ? foldKey : `${event.namespace}/${event.name}`, event);
    this.record('events', 'ADDED', event, event.namespace);
  }

  /** Drops events older than `ttlMs` (Kubernetes keeps them an hour), with watch DELETED. */
  expireEvents(ttlMs: number): void {
    const cutoff = this.now() - ttlMs;
    for (const [key, event] of this.events) {
      if (event.lastTimestampMs < cutoff) {
        this.events.delete(key);
        this.record('events', 'DELETED', event, event.namespace);
      }
    }
  }

  /** Spends the whole restart and churn budgets on random running pods, listed once. */
  private restartAndChurn(): void {
    const running = [...this.pods.values()].filter((p) => p.phase === 'Running' && p.nodeName);
    if (running.length === 0) {
      this.restartBudget %= 1;
      this.churnBudget %= 1;
      return;
    }
    for (; this.restartBudget >= 1; this.restartBudget--) {
      const pod = this.random.pick(running);
      this.restartContainer(pod.namespace, pod.name, this.random.pick(pod.containers).name);
    }
    for (; this.churnBudget >= 1; this.churnBudget--) {
      const index = Math.floor(this.random.next() * running.length);
      const pod = running[index]!;
      this.deletePod(pod.namespace, pod.name);
      running[index] = this.addPod(pod.nodeName!, pod.namespace);
    }
  }

  /** Advances time-driven behaviour: random restarts and pod churn at the configured rates. */
  tick(): void {
    const nowMs = this.now();
    const elapsedMinutes = (nowMs - this.lastTickMs) / 60_000;
    this.lastTickMs = nowMs;
    this.restartBudget += this.options.restartsPerMinute * elapsedMinutes;
    this.churnBudget += this.options.churnPerMinute * elapsedMinutes;
    if (this.restartBudget >= 1 || this.churnBudget >= 1) this.restartAndChurn();
    this.expireEvents(3_600_000);
  }
}

function randomUUIDFrom(random: Random): string {
  const h = random.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
