/** Kubernetes v1 JSON for the simulated objects, as the API server would return them. */
import { toRfc3339 } from '../services/common/metric-export.js';
import type { SimEvent, SimNamespace, SimNode, SimPod } from './cluster.js';

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

/** Memory as Kubernetes writes quantities: Gi or Mi when exact, else Ki, else plain bytes. */
export function bytesQuantity(bytes: number): string {
  if (bytes % GIB === 0) return `${bytes / GIB}Gi`;
  if (bytes % MIB === 0) return `${bytes / MIB}Mi`;
  if (bytes % 1024 === 0) return `${bytes / 1024}Ki`;
  return String(bytes);
}

export function cpuQuantity(milliCores: number): string {
  return milliCores % 1000 === 0 ? String(milliCores / 1000) : `${milliCores}m`;
}

export function nodeJson(node: SimNode): object {
  const created = toRfc3339(node.startTimeMs);
  return {
    kind: 'Node',
    apiVersion: 'v1',
    metadata: {
      name: node.name,
      uid: node.uid,
      resourceVersion: String(node.resourceVersion),
      creationTimestamp: created,
      labels: {
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': `sim.${node.capacity.cpuMilliCores / 1000}c`,
        'topology.kubernetes.io/zone': `sim-${'abc'[node.index % 3]}`,
      },
    },
    spec: { providerID: `simulator://${node.name}` },
    status: {
      capacity: {
        cpu: cpuQuantity(node.capacity.cpuMilliCores),
        memory: bytesQuantity(node.capacity.memoryBytes),
        pods: String(node.capacity.pods),
        'ephemeral-storage': bytesQuantity(node.capacity.ephemeralBytes),
      },
      allocatable: {
        cpu: cpuQuantity(node.allocatable.cpuMilliCores),
        memory: bytesQuantity(node.allocatable.memoryBytes),
        pods: String(node.allocatable.pods),
        'ephemeral-storage': String(node.allocatable.ephemeralBytes),
      },
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: created, lastTransitionTime: created },
        { type: 'Ready', status: node.ready ? 'True' : 'False', reason: node.ready ? 'KubeletReady' : 'KubeletNotReady', lastHeartbeatTime: created, lastTransitionTime: created },
      ],
      addresses: [
        { type: 'InternalIP', address: node.address },
        { type: 'Hostname', address: node.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: node.port } },
      nodeInfo: {
        kubeletVersion: 'v1.31.0',
        containerRuntimeVersion: 'containerd://1.7.27',
        kernelVersion: '6.1.0-sim',
        osImage: 'Podometer simulator',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

function resources(c: SimPod['containers'][number]): object {
  const requests: Record<string, string> = { cpu: cpuQuantity(c.requests.cpuMilliCores), memory: bytesQuantity(c.requests.memoryBytes) };
  if (c.requests.ephemeralBytes !== undefined) requests['ephemeral-storage'] = bytesQuantity(c.requests.ephemeralBytes);
  const limits: Record<string, string> = {};
  if (c.limits.cpuMilliCores !== undefined) limits.cpu = cpuQuantity(c.limits.cpuMilliCores);
  if (c.limits.memoryBytes !== undefined) limits.memory = bytesQuantity(c.limits.memoryBytes);
  return { requests, limits };
}

export function podJson(pod: SimPod): object {
  const running = pod.phase === 'Running';
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      uid: pod.uid,
      resourceVersion: String(pod.resourceVersion),
      creationTimestamp: toRfc3339(pod.createdMs),
      labels: { app: pod.app, 'pod-template-hash': pod.replicaSet.slice(pod.app.length + 1) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: pod.replicaSet, uid: pod.replicaSetUid, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      ...(pod.nodeName ? { nodeName: pod.nodeName } : {}),
      containers: pod.containers.map((c) => ({ name: c.name, image: c.image, resources: resources(c) })),
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
    },
    status: {
      phase: pod.phase,
      qosClass: 'Burstable',
      ...(pod.nodeName ? { hostIP: '127.0.0.1', podIP: pod.ip, startTime: toRfc3339(pod.startTimeMs) } : {}),
      ...(pod.phase === 'Pending' ? {} : {
        containerStatuses: pod.containers.map((c) => ({
          name: c.name,
          image: c.image,
          imageID: `${c.image}@sha256:${'0'.repeat(64)}`,
          containerID: `containerd://${pod.uid.replace(/-/g, '')}${c.name}`,
          ready: running,
          started: running,
          restartCount: c.restartCount,
          state: running ? { running: { startedAt: toRfc3339(c.startTimeMs) } } : { terminated: { exitCode: 0, reason: 'Completed' } },
        })),
      }),
    },
  };
}

export function namespaceJson(namespace: SimNamespace): object {
  return {
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: {
      name: namespace.name,
      uid: namespace.uid,
      resourceVersion: String(namespace.resourceVersion),
      creationTimestamp: toRfc3339(namespace.createdMs),
      labels: { 'kubernetes.io/metadata.name': namespace.name },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

export function eventJson(event: SimEvent): object {
  return {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: {
      name: event.name,
      namespace: event.namespace,
      uid: event.uid,
      resourceVersion: String(event.resourceVersion),
      creationTimestamp: toRfc3339(event.firstTimestampMs),
    },
    involvedObject: { apiVersion: 'v1', resourceVersion: '', ...event.involved },
    reason: event.reason,
    message: event.message,
    source: event.source,
    firstTimestamp: toRfc3339(event.firstTimestampMs),
    lastTimestamp: toRfc3339(event.lastTimestampMs),
    count: event.count,
    type: event.type,
    eventTime: null,
    reportingComponent: '',
    reportingInstance: '',
  };
}
