/**
 * Renders a node's `/stats/summary` the cheap way: the JSON is split once per node layout (its pod
 * set and container start times) into static text and "slots" for the numbers that move with
 * time. A request only fills the slots (about 20 per pod) and joins the strings. The layout is
 * rebuilt when `node.layoutVersion` changes (pod added or deleted, container restarted).
 *
 * The shape follows a containerd node on Kubernetes 1.31: system containers kubelet, runtime and
 * pods; pod-level cpu, memory, network (with interfaces[]), volumes, ephemeral-storage,
 * process_stats; container cpu, memory, rootfs, logs, swap.
 */
import { SimulatedCluster, WorkingSetsAt, type SimContainer, type SimNode, type SimPod } from './cluster.js';
import { toRfc3339 } from '../services/common/metric-export.js';

const enum Slot {
  Time,
  ContainerCpuNs,
  ContainerMemoryUsage,
  ContainerWorkingSet,
  ContainerRss,
  ContainerPageFaults,
  ContainerMajorPageFaults,
  ContainerAvailable,
  PodCpuNs,
  PodMemoryUsage,
  PodWorkingSet,
  PodRss,
  PodPageFaults,
  PodRx,
  PodTx,
  NodeCpuNs,
  NodeMemoryUsage,
  NodeWorkingSet,
  NodeRss,
  NodeAvailable,
  NodePageFaults,
  NodeRx,
  NodeTx,
  SystemCpuNs,
  SystemWorkingSet,
}

type SlotRef = SimContainer | SimPod | SimNode | { node: SimNode; share: number };

interface Template {
  readonly layoutVersion: number;
  readonly parts: string[];
  readonly kinds: Slot[];
  readonly refs: SlotRef[];
}

const q = JSON.stringify;

class Builder {
  readonly parts: string[] = [''];
  readonly kinds: Slot[] = [];
  readonly refs: SlotRef[] = [];
  text(s: string): this {
    this.parts[this.parts.length - 1] += s;
    return this;
  }
  slot(kind: Slot, ref: SlotRef): this {
    this.kinds.push(kind);
    this.refs.push(ref);
    this.parts.push('');
    return this;
  }
  time(ref: SlotRef): this {
    return this.slot(Slot.Time, ref);
  }
}

const GIB = 1024 ** 3;

function fsBlock(b: Builder, ref: SlotRef, capacity: number, used: number, inodes: number): void {
  const inodesUsed = Math.max(1, Math.round(used / 16384));
  b.text('{"time":').time(ref)
    .text(`,"availableBytes":${capacity - used},"capacityBytes":${capacity},"usedBytes":${used},"inodesFree":${inodes - inodesUsed},"inodes":${inodes},"inodesUsed":${inodesUsed}}`);
}

function containerBlock(b: Builder, container: SimContainer): void {
  const limit = container.limits.memoryBytes;
  b.text(`{"name":${q(container.name)},"startTime":${q(toRfc3339(container.startTimeMs))},"cpu":{"time":`).time(container)
    .text(`,"usageNanoCores":${container.cpuMilliCores * 1e6},"usageCoreNanoSeconds":`).slot(Slot.ContainerCpuNs, container)
    .text('},"memory":{"time":').time(container);
  if (limit !== undefined) b.text(',"availableBytes":').slot(Slot.ContainerAvailable, container);
  b.text(',"usageBytes":').slot(Slot.ContainerMemoryUsage, container)
    .text(',"workingSetBytes":').slot(Slot.ContainerWorkingSet, container)
    .text(',"rssBytes":').slot(Slot.ContainerRss, container)
    .text(',"pageFaults":').slot(Slot.ContainerPageFaults, container)
    .text(',"majorPageFaults":').slot(Slot.ContainerMajorPageFaults, container)
    .text('},"rootfs":');
  fsBlock(b, container, 200 * GIB, container.rootfsUsedBytes, 13_107_200);
  b.text(',"logs":');
  fsBlock(b, container, 200 * GIB, container.logsUsedBytes, 13_107_200);
  b.text(',"swap":{"time":').time(container).text(',"swapAvailableBytes":0,"swapUsageBytes":0}}');
}

interface UsageSlots {
  readonly cpuNs: Slot;
  readonly available?: Slot;
  readonly usage: Slot;
  readonly workingSet: Slot;
  readonly rss: Slot;
  readonly pageFaults: Slot;
  readonly rx: Slot;
  readonly tx: Slot;
}

const POD_SLOTS: UsageSlots = {
  cpuNs: Slot.PodCpuNs, usage: Slot.PodMemoryUsage, workingSet: Slot.PodWorkingSet, rss: Slot.PodRss,
  pageFaults: Slot.PodPageFaults, rx: Slot.PodRx, tx: Slot.PodTx,
};
const NODE_SLOTS: UsageSlots = {
  cpuNs: Slot.NodeCpuNs, available: Slot.NodeAvailable, usage: Slot.NodeMemoryUsage, workingSet: Slot.NodeWorkingSet,
  rss: Slot.NodeRss, pageFaults: Slot.NodePageFaults, rx: Slot.NodeRx, tx: Slot.NodeTx,
};

/** The `cpu`, `memory` and `network` blocks of a pod or a node (eth0 plus `extraInterfaces`). */
function usageBlocks(b: Builder, ref: SlotRef, cpuNanoCores: number, slots: UsageSlots, majorPageFaults: number, extraInterfaces: string): void {
  b.text('"cpu":{"time":').time(ref).text(`,"usageNanoCores":${cpuNanoCores},"usageCoreNanoSeconds":`).slot(slots.cpuNs, ref)
    .text('},"memory":{"time":').time(ref);
  if (slots.available !== undefined) b.text(',"availableBytes":').slot(slots.available, ref);
  b.text(',"usageBytes":').slot(slots.usage, ref)
    .text(',"workingSetBytes":').slot(slots.workingSet, ref)
    .text(',"rssBytes":').slot(slots.rss, ref)
    .text(',"pageFaults":').slot(slots.pageFaults, ref)
    .text(`,"majorPageFaults":${majorPageFaults}},"network":{"time":`).time(ref)
    .text(',"name":"eth0","rxBytes":').slot(slots.rx, ref).text(',"rxErrors":0,"txBytes":').slot(slots.tx, ref)
    .text(',"txErrors":0,"interfaces":[{"name":"eth0","rxBytes":').slot(slots.rx, ref).text(',"rxErrors":0,"txBytes":').slot(slots.tx, ref)
    .text(`,"txErrors":0}${extraInterfaces}]}`);
}

function podBlock(b: Builder, pod: SimPod): void {
  b.text(`{"podRef":{"name":${q(pod.name)},"namespace":${q(pod.namespace)},"uid":${q(pod.uid)}},"startTime":${q(toRfc3339(pod.startTimeMs))},"containers":[`);
  pod.containers.forEach((c, i) => {
    if (i > 0) b.text(',');
    containerBlock(b, c);
  });
  b.text('],');
  usageBlocks(b, pod, SimulatedCluster.podCpuMilliCores(pod) * 1e6, POD_SLOTS, 0, '');
  b.text(',"volume":[');
  pod.volumes.forEach((v, i) => {
    if (i > 0) b.text(',');
    b.text('{"time":').time(pod)
      .text(`,"availableBytes":${16 * GIB - v.usedBytes},"capacityBytes":${16 * GIB},"usedBytes":${v.usedBytes},"inodesFree":4194295,"inodes":4194304,"inodesUsed":9,"name":${q(v.name)}}`);
  });
  const ephemeral = pod.containers.reduce((s, c) => s + c.rootfsUsedBytes + c.logsUsedBytes, 0);
  b.text('],"ephemeral-storage":');
  fsBlock(b, pod, 200 * GIB, ephemeral, 13_107_200);
  b.text(`,"process_stats":{"process_count":${pod.containers.length * 3}},"swap":{"time":`).time(pod).text(',"swapUsageBytes":0}}');
}

function systemContainer(b: Builder, node: SimNode, name: string, share: number): void {
  const ref = { node, share };
  b.text(`{"name":${q(name)},"startTime":${q(toRfc3339(node.startTimeMs))},"cpu":{"time":`).time(ref)
    .text(`,"usageNanoCores":${Math.round(node.systemCpuMilliCores * share * 1e6)},"usageCoreNanoSeconds":`).slot(Slot.SystemCpuNs, ref)
    .text('},"memory":{"time":').time(ref)
    .text(',"usageBytes":').slot(Slot.SystemWorkingSet, ref)
    .text(',"workingSetBytes":').slot(Slot.SystemWorkingSet, ref)
    .text(',"rssBytes":').slot(Slot.SystemWorkingSet, ref)
    .text(',"pageFaults":0,"majorPageFaults":0}}');
}

function buildTemplate(node: SimNode): Template {
  const b = new Builder();
  const pods = [...node.pods.values()];
  const podsEphemeral = pods.reduce((s, p) => s + p.containers.reduce((t, c) => t + c.rootfsUsedBytes + c.logsUsedBytes, 0), 0);
  const nodeFsUsed = 12 * GIB + podsEphemeral;
  b.text(`{"node":{"nodeName":${q(node.name)},"systemContainers":[`);
  systemContainer(b, node, 'kubelet', 0.6);
  b.text(',');
  systemContainer(b, node, 'runtime', 0.4);
  b.text(`,{"name":"pods","startTime":${q(toRfc3339(node.startTimeMs))},"cpu":{"time":`).time(node)
    .text('},"memory":{"time":').time(node).text(',"workingSetBytes":').slot(Slot.NodeWorkingSet, node).text('}}');
  b.text(`],"startTime":${q(toRfc3339(node.startTimeMs))},`);
  usageBlocks(b, node, Math.round(node.cpu.rate), NODE_SLOTS, 12, ',{"name":"tunl0","rxBytes":0,"rxErrors":0,"txBytes":0,"txErrors":0}');
  b.text(',"fs":');
  fsBlock(b, node, node.capacity.ephemeralBytes, nodeFsUsed, 13_107_200);
  b.text(',"runtime":{"imageFs":');
  fsBlock(b, node, node.capacity.ephemeralBytes, 9 * GIB, 13_107_200);
  b.text(',"containerFs":');
  fsBlock(b, node, node.capacity.ephemeralBytes, 9 * GIB, 13_107_200);
  b.text(`},"rlimit":{"time":`).time(node).text(`,"maxpid":4194304,"curproc":${pods.length * 4 + 120}},"swap":{"time":`).time(node)
    .text(',"swapAvailableBytes":0,"swapUsageBytes":0}},"pods":[');
  pods.forEach((pod, i) => {
    if (i > 0) b.text(',');
    podBlock(b, pod);
  });
  b.text(']}');
  return { layoutVersion: node.layoutVersion, parts: b.parts, kinds: b.kinds, refs: b.refs };
}

function podPageFaults(pod: SimPod, timeMs: number): number {
  return pod.containers.reduce((s, c) => s + containerPageFaults(c, timeMs), 0);
}

function containerPageFaults(container: SimContainer, timeMs: number): number {
  return Math.floor((container.pageFaultsPerSecond * (timeMs - container.startTimeMs)) / 1000);
}

function slotValue(kind: Slot, ref: SlotRef, at: WorkingSetsAt, timeText: string): string {
  const timeMs = at.timeMs;
  switch (kind) {
    case Slot.Time:
      return timeText;
    case Slot.ContainerCpuNs:
      return String(SimulatedCluster.containerCpuNanoSeconds(ref as SimContainer, timeMs));
    case Slot.ContainerMemoryUsage:
      return String(Math.round(at.container(ref as SimContainer) * 1.25));
    case Slot.ContainerWorkingSet:
      return String(at.container(ref as SimContainer));
    case Slot.ContainerRss:
      return String(Math.round(at.container(ref as SimContainer) * 0.8));
    case Slot.ContainerPageFaults:
      return String(containerPageFaults(ref as SimContainer, timeMs));
    case Slot.ContainerMajorPageFaults:
      return String(Math.floor(containerPageFaults(ref as SimContainer, timeMs) / 1000));
    case Slot.ContainerAvailable: {
      const c = ref as SimContainer;
      return String(Math.max(0, (c.limits.memoryBytes ?? 0) - at.container(c)));
    }
    case Slot.PodCpuNs: {
      const pod = ref as SimPod;
      return String(Math.round(SimulatedCluster.podCpuMilliCores(pod) * 1000 * (timeMs - pod.startTimeMs)));
    }
    case Slot.PodMemoryUsage:
      return String(Math.round(at.pod(ref as SimPod) * 1.25));
    case Slot.PodWorkingSet:
      return String(at.pod(ref as SimPod));
    case Slot.PodRss:
      return String(Math.round(at.pod(ref as SimPod) * 0.8));
    case Slot.PodPageFaults:
      return String(podPageFaults(ref as SimPod, timeMs));
    case Slot.PodRx: {
      const pod = ref as SimPod;
      return String(Math.round((pod.rxBytesPerSecond * (timeMs - pod.startTimeMs)) / 1000));
    }
    case Slot.PodTx: {
      const pod = ref as SimPod;
      return String(Math.round((pod.txBytesPerSecond * (timeMs - pod.startTimeMs)) / 1000));
    }
    case Slot.NodeCpuNs:
      return (ref as SimNode).cpu.valueAt(timeMs).toString();
    case Slot.NodeMemoryUsage:
      return String(Math.round(at.node(ref as SimNode) * 1.4));
    case Slot.NodeWorkingSet:
      return String(at.node(ref as SimNode));
    case Slot.NodeRss:
      return String(Math.round(at.node(ref as SimNode) * 0.7));
    case Slot.NodeAvailable: {
      const node = ref as SimNode;
      return String(Math.max(0, node.capacity.memoryBytes - at.node(node)));
    }
    case Slot.NodePageFaults:
      return (ref as SimNode).pageFaults.valueAt(timeMs).toString();
    case Slot.NodeRx:
      return (ref as SimNode).rx.valueAt(timeMs).toString();
    case Slot.NodeTx:
      return (ref as SimNode).tx.valueAt(timeMs).toString();
    case Slot.SystemCpuNs: {
      const { node, share } = ref as { node: SimNode; share: number };
      return String(Math.round(node.systemCpuMilliCores * share * 1000 * (timeMs - node.startTimeMs)));
    }
    case Slot.SystemWorkingSet: {
      const { node, share } = ref as { node: SimNode; share: number };
      return String(Math.round(node.systemWorkingSetBytes * share));
    }
  }
}

/** Caches one template per node and renders summaries at a given (whole-second) time. */
export class SummaryRenderer {
  private readonly templates = new Map<string, Template>();

  render(node: SimNode, timeMs: number): string {
    let template = this.templates.get(node.name);
    if (!template || template.layoutVersion !== node.layoutVersion) {
      template = buildTemplate(node);
      this.templates.set(node.name, template);
    }
    const at = new WorkingSetsAt(timeMs);
    const timeText = q(toRfc3339(timeMs));
    const { parts, kinds, refs } = template;
    let out = parts[0]!;
    for (let i = 0; i < kinds.length; i++) out += slotValue(kinds[i]!, refs[i]!, at, timeText) + parts[i + 1]!;
    return out;
  }
}
