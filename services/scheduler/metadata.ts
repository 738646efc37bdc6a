/**
 * Kubernetes objects -> the compact metadata the processor needs (pure functions).
 * Quantities follow Kubernetes: cpu `250m`/`0.5`/`2`, memory `128Mi`/`1G`/`1e9`/`4096`.
 */
import type { ContainerMeta, NamespaceMeta, NodeMeta, PodMeta, ResourceAmounts } from '../common/jobs.js';

const SUFFIX: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6,
};

/** A Kubernetes quantity in base units; undefined when it is not one. */
export function parseQuantity(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?)$/.exec(text.trim());
  if (!match) return undefined;
  const number = Number(match[1]);
  if (match[2]) return number * 10 ** Number(match[2].slice(1));
  return number * SUFFIX[match[3] ?? '']!;
}

type ResourceList = Record<string, string> | undefined;

/** cpu rounded up to whole millicores (Kubernetes' MilliValue), bytes rounded up. */
export function resourceAmounts(list: ResourceList): ResourceAmounts {
  const amounts: ResourceAmounts = {};
  const cpu = parseQuantity(list?.cpu);
  const memory = parseQuantity(list?.memory);
  const ephemeral = parseQuantity(list?.['ephemeral-storage']);
  if (cpu !== undefined) amounts.cpuMilliCores = Math.ceil(Math.round(cpu * 1e6) / 1e3);
  if (memory !== undefined) amounts.memoryBytes = Math.ceil(memory);
  if (ephemeral !== undefined) amounts.ephemeralBytes = Math.ceil(ephemeral);
  return amounts;
}

/** The fields of the v1 objects read here (client-node's types are wider). */
export interface ObjectMetaLike {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  ownerReferences?: { kind?: string; name?: string; controller?: boolean }[];
}
export interface NodeLike {
  metadata?: ObjectMetaLike;
  spec?: { providerID?: string };
  status?: {
    capacity?: Record<string, string>;
    allocatable?: Record<string, string>;
    conditions?: { type?: string; status?: string }[];
    addresses?: { type?: string; address?: string }[];
    daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
  };
}
export interface PodLike {
  metadata?: ObjectMetaLike;
  spec?: { nodeName?: string; containers?: { name?: string; image?: string; resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[] };
  status?: { phase?: string; containerStatuses?: { name?: string; restartCount?: number }[] };
}
export interface NamespaceLike {
  metadata?: ObjectMetaLike;
}

export function nodeMeta(node: NodeLike): NodeMeta {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  return {
    name: node.metadata?.name ?? '',
    uid: node.metadata?.uid ?? '',
    hostId: node.spec?.providerID ?? '',
    labels: node.metadata?.labels ?? {},
    capacity: resourceAmounts(node.status?.capacity),
    allocatable: resourceAmounts(node.status?.allocatable),
    ready,
  };
}

export function podMeta(pod: PodLike): PodMeta {
  const restarts = new Map((pod.status?.containerStatuses ?? []).map((s) => [s.name ?? '', s.restartCount ?? 0]));
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  const containers: ContainerMeta[] = (pod.spec?.containers ?? []).map((c) => ({
    name: c.name ?? '',
    image: c.image ?? '',
    requests: resourceAmounts(c.resources?.requests),
    limits: resourceAmounts(c.resources?.limits),
    restartCount: restarts.get(c.name ?? '') ?? 0,
  }));
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    nodeName: pod.spec?.nodeName ?? '',
    phase: pod.status?.phase ?? '',
    labels: pod.metadata?.labels ?? {},
    owner: owner ? `${owner.kind ?? ''}/${owner.name ?? ''}` : '',
    containers,
  };
}

export function namespaceMeta(namespace: NamespaceLike): NamespaceMeta {
  return { name: namespace.metadata?.name ?? '', uid: namespace.metadata?.uid ?? '' };
}

/**
 * The kubelet base URL of a node: the first address of the preferred types
 * (metrics-server's --kubelet-preferred-address-types), the status port or the configured one.
 */
export function kubeletUrl(
  node: NodeLike,
  options: { preferredAddressTypes: readonly string[]; useNodeStatusPort: boolean; port: number; https: boolean },
): string | undefined {
  const addresses = node.status?.addresses ?? [];
  let address: string | undefined;
  for (const type of options.preferredAddressTypes) {
    address = addresses.find((a) => a.type === type && a.address)?.address;
    if (address) break;
  }
  if (!address) return undefined;
  const statusPort = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  const port = options.useNodeStatusPort && statusPort ? statusPort : options.port;
  const host = address.includes(':') ? `[${address}]` : address;
  return `${options.https ? 'https' : 'http'}://${host}:${port}`;
}
