/**
 * Node, pod and namespace discovery by list+watch (client-node informers, which relist on
 * `410 Gone`), kept as compact metadata in memory and published to Redis for the processors.
 * Publishing is incremental: only nodes whose pods changed are rewritten, at most once a second.
 */
import { CoreV1Api, makeInformer, type Informer, type KubeConfig, type V1Namespace, type V1Node, type V1Pod } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import type { NamespaceMeta, NodeMeta, PodMeta } from '../common/jobs.js';
import type { RedisKeys } from '../common/keys.js';
import type { Logger } from '../common/logger.js';
import { kubeletUrl, namespaceMeta, nodeMeta, podMeta, type NodeLike } from './metadata.js';

export interface KubeletAddressing {
  preferredAddressTypes: readonly string[];
  useNodeStatusPort: boolean;
  port: number;
  https: boolean;
}

export interface ScrapeTarget {
  nodeName: string;
  kubeletUrl: string;
}

/** What the API server says, reduced to what Podometer uses; fed by informer events. */
export class ClusterMetadata {
  private readonly nodes = new Map<string, { meta: NodeMeta; url: string | undefined }>();
  private readonly pods = new Map<string, PodMeta>();
  private readonly podsByNode = new Map<string, Map<string, PodMeta>>();
  private readonly namespaces = new Map<string, NamespaceMeta>();
  private readonly dirtyPodNodes = new Set<string>();
  private readonly dirtyNodes = new Set<string>();
  private readonly deletedNodes = new Set<string>();
  private readonly dirtyNamespaces = new Set<string>();
  private readonly deletedNamespaces = new Set<string>();

  constructor(private readonly addressing: KubeletAddressing) {}

  upsertNode(node: NodeLike): void {
    const meta = nodeMeta(node);
    this.nodes.set(meta.name, { meta, url: kubeletUrl(node, this.addressing) });
    this.dirtyNodes.add(meta.name);
    this.deletedNodes.delete(meta.name);
  }

  deleteNode(name: string): void {
    this.nodes.delete(name);
    this.deletedNodes.add(name);
    this.dirtyNodes.delete(name);
  }

  upsertPod(pod: PodMeta): void {
    const key = `${pod.namespace}/${pod.name}`;
    const before = this.pods.get(key);
    if (before && before.nodeName !== pod.nodeName) this.removeFromNode(before, key);
    this.pods.set(key, pod);
    if (pod.nodeName) {
      let onNode = this.podsByNode.get(pod.nodeName);
      if (!onNode) this.podsByNode.set(pod.nodeName, (onNode = new Map()));
      onNode.set(key, pod);
      this.dirtyPodNodes.add(pod.nodeName);
    }
  }

  deletePod(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const before = this.pods.get(key);
    if (!before) return;
    this.pods.delete(key);
    this.removeFromNode(before, key);
  }

  upsertNamespace(namespace: NamespaceMeta): void {
    this.namespaces.set(namespace.name, namespace);
    this.dirtyNamespaces.add(namespace.name);
    this.deletedNamespaces.delete(namespace.name);
  }

  deleteNamespace(name: string): void {
    this.namespaces.delete(name);
    this.deletedNamespaces.add(name);
    this.dirtyNamespaces.delete(name);
  }

  /** Ready nodes with a usable address, sorted by name: the nodes a window expects. */
  targets(): ScrapeTarget[] {
    const targets: ScrapeTarget[] = [];
    for (const { meta, url } of this.nodes.values()) if (meta.ready && url) targets.push({ nodeName: meta.name, kubeletUrl: url });
    return targets.sort((a, b) => (a.nodeName < b.nodeName ? -1 : a.nodeName > b.nodeName ? 1 : 0));
  }

  get counts(): { nodes: number; pods: number; namespaces: number } {
    return { nodes: this.nodes.size, pods: this.pods.size, namespaces: this.namespaces.size };
  }

  /** Marks everything for publishing (a new leader rewrites all it knows). */
  markAllDirty(): void {
    for (const name of this.nodes.keys()) this.dirtyNodes.add(name);
    for (const name of this.podsByNode.keys()) this.dirtyPodNodes.add(name);
    for (const name of this.namespaces.keys()) this.dirtyNamespaces.add(name);
  }

  /** Writes what changed since the last publish to Redis; metadata keys expire if never refreshed. */
  async publish(redis: Redis, keys: RedisKeys, ttlMs: number): Promise<number> {
    const pipeline = redis.pipeline();
    let writes = 0;
    for (const name of this.dirtyNodes) pipeline.hset(keys.nodeMeta, name, JSON.stringify(this.nodes.get(name)!.meta));
    if (this.deletedNodes.size > 0) pipeline.hdel(keys.nodeMeta, ...this.deletedNodes);
    for (const name of this.dirtyNamespaces) pipeline.hset(keys.namespaceMeta, name, JSON.stringify(this.namespaces.get(name)!));
    if (this.deletedNamespaces.size > 0) pipeline.hdel(keys.namespaceMeta, ...this.deletedNamespaces);
    for (const nodeName of this.dirtyPodNodes) {
      const pods = [...(this.podsByNode.get(nodeName)?.values() ?? [])];
      pipeline.set(keys.podsOnNode(nodeName), JSON.stringify(pods), 'PX', ttlMs);
    }
    writes = this.dirtyNodes.size + this.deletedNodes.size + this.dirtyNamespaces.size + this.deletedNamespaces.size + this.dirtyPodNodes.size;
    this.dirtyNodes.clear();
    this.deletedNodes.clear();
    this.dirtyNamespaces.clear();
    this.deletedNamespaces.clear();
    this.dirtyPodNodes.clear();
    if (writes > 0) await pipeline.exec();
    return writes;
  }

  /** Pod metadata keys of nodes with no pods left would otherwise keep old pods until they expire. */
  refreshAll(): void {
    for (const name of this.podsByNode.keys()) this.dirtyPodNodes.add(name);
  }

  private removeFromNode(pod: PodMeta, key: string): void {
    const onNode = this.podsByNode.get(pod.nodeName);
    if (!onNode) return;
    onNode.delete(key);
    this.dirtyPodNodes.add(pod.nodeName);
  }
}

export interface Discovery {
  /** Resolves once the first list of every resource is in. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Informers for nodes (filtered by `nodeSelector`), pods and namespaces feeding `metadata`. */
export function startDiscovery(kc: KubeConfig, metadata: ClusterMetadata, nodeSelector: string, logger: Logger): Discovery {
  const api = kc.makeApiClient(CoreV1Api);
  const selector = nodeSelector || undefined;
  // Each list resolves its `listed` promise the first time it succeeds: start() waits for all three.
  const firstLists: Promise<void>[] = [];
  const tracked = <T>(list: () => Promise<T>): (() => Promise<T>) => {
    let listed!: () => void;
    firstLists.push(new Promise<void>((resolve) => (listed = resolve)));
    return async () => {
      const result = await list();
      listed();
      return result;
    };
  };
  const nodes = makeInformer<V1Node>(kc, '/api/v1/nodes', tracked(() => api.listNode(selector ? { labelSelector: selector } : {})), selector);
  const pods = makeInformer<V1Pod>(kc, '/api/v1/pods', tracked(() => api.listPodForAllNamespaces()));
  const namespaces = makeInformer<V1Namespace>(kc, '/api/v1/namespaces', tracked(() => api.listNamespace()));
  nodes.on('add', (n) => metadata.upsertNode(n as NodeLike));
  nodes.on('update', (n) => metadata.upsertNode(n as NodeLike));
  nodes.on('delete', (n) => metadata.deleteNode(n.metadata?.name ?? ''));
  const onPod = (p: V1Pod): void => metadata.upsertPod(podMeta(p as Parameters<typeof podMeta>[0]));
  pods.on('add', onPod);
  pods.on('update', onPod);
  pods.on('delete', (p) => metadata.deletePod(p.metadata?.namespace ?? '', p.metadata?.name ?? ''));
  namespaces.on('add', (n) => metadata.upsertNamespace(namespaceMeta(n)));
  namespaces.on('update', (n) => metadata.upsertNamespace(namespaceMeta(n)));
  namespaces.on('delete', (n) => metadata.deleteNamespace(n.metadata?.name ?? ''));
  const informers: [string, Informer<V1Node> | Informer<V1Pod> | Informer<V1Namespace>][] = [['nodes', nodes], ['pods', pods], ['namespaces', namespaces]];
  let stopped = false;
  for (const [resource, informer] of informers) {
    informer.on('error', (error?: unknown) => {
      if (stopped) return;
      logger.warn('watch failed; restarting', { resource, error: error instanceof Error ? error.message : String(error) });
      setTimeout(() => {
        if (!stopped) informer.start().catch((e: unknown) => logger.warn('relist failed', { resource, error: String(e) }));
      }, 1000).unref();
    });
  }
  return {
    start: async () => {
      for (const [resource, informer] of informers) {
        informer.start().catch((error: unknown) => logger.warn('list failed; retrying', { resource, error: error instanceof Error ? error.message : String(error) }));
      }
      await Promise.all(firstLists);
    },
    stop: async () => {
      stopped = true;
      for (const [, informer] of informers) await informer.stop();
    },
  };
}
