/**
 * Node, pod and namespace discovery by list+watch (relisting on `410 Gone`), kept as compact
 * metadata in memory and published to Redis for the processors.
 * Publishing is incremental: only nodes whose pods changed are rewritten, at most once a second.
 */
import type { ApiServerConnection } from '../common/kube.js';
import type { Redis } from 'ioredis';
import type { NamespaceMeta, NodeMeta, PodMeta } from '../common/jobs.js';
import { podNodesField, type RedisKeys } from '../common/keys.js';
import { listPage, ListWatch, type ApiObject, type ListWatchHandlers } from '../common/list-watch.js';
import type { Logger } from '../common/logger.js';
import { execOrThrow } from '../common/redis.js';
import { kubeletUrl, namespaceMeta, nodeMeta, podMeta, type NamespaceLike, type NodeLike, type PodLike } from './metadata.js';

/** Writes per Redis pipeline when publishing metadata. */
export const PUBLISH_BATCH = 500;

/** `items` in consecutive runs of at most PUBLISH_BATCH. */
function* publishBatches<T>(items: readonly T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += PUBLISH_BATCH) yield items.slice(i, i + PUBLISH_BATCH);
}

/** The set's members, leaving it empty. */
function drain(set: Set<string>): string[] {
  const members = [...set];
  set.clear();
  return members;
}

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

/** What the API server says, reduced to what Podometer uses; fed by list+watch events. */
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
  /** Pods whose binding changed (bound to another node, or deleted): written as they are when published. */
  private readonly dirtyBindings = new Set<string>();
  /** Set by markAllDirty: the published bindings are replaced (pods deleted while no scheduler ran would stay in them). */
  private replaceBindings = false;

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
    const key = podNodesField(pod.namespace, pod.name);
    const before = this.pods.get(key);
    if (before && before.nodeName !== pod.nodeName) this.removeFromNode(before, key);
    if (before?.nodeName !== pod.nodeName) this.dirtyBindings.add(key);
    this.pods.set(key, pod);
    if (pod.nodeName) {
      let onNode = this.podsByNode.get(pod.nodeName);
      if (!onNode) this.podsByNode.set(pod.nodeName, (onNode = new Map()));
      onNode.set(key, pod);
      this.dirtyPodNodes.add(pod.nodeName);
    }
  }

  deletePod(namespace: string, name: string): void {
    const key = podNodesField(namespace, name);
    const before = this.pods.get(key);
    if (!before) return;
    this.pods.delete(key);
    this.removeFromNode(before, key);
    this.dirtyBindings.add(key);
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
    for (const [key, pod] of this.pods) if (pod.nodeName) this.dirtyBindings.add(key);
    this.replaceBindings = true;
  }

  /**
   * Writes what changed since the last publish to Redis, `PUBLISH_BATCH` writes per pipeline (all
   * 10,000 nodes' pod lists in one pipeline raised the scheduler's peak RSS by ~0.4 GiB). Every
   * key it writes expires `ttlMs` later unless renewExpiry renews it (so nothing stays in Redis
   * once no scheduler runs). If Redis fails, what was not written is marked again.
   * Returns the writes it queued (a pod list, a node, a namespace, a batch of pod bindings).
   */
  async publish(redis: Redis, keys: RedisKeys, ttlMs: number): Promise<number> {
    const nodes = drain(this.dirtyNodes);
    const deletedNodes = drain(this.deletedNodes);
    const namespaces = drain(this.dirtyNamespaces);
    const deletedNamespaces = drain(this.deletedNamespaces);
    const podNodes = drain(this.dirtyPodNodes);
    const bindings = drain(this.dirtyBindings);
    let bindingWrites = 0;
    const replaceBindings = this.replaceBindings;
    this.replaceBindings = false;
    /** The hashes this publish writes fields to: their expiry is set once the fields are queued. */
    const hashesWritten = new Set<string>();
    let pipeline = redis.pipeline();
    /** Sends the pipeline once it holds `PUBLISH_BATCH` writes (`atEnd`: whatever it holds). */
    const send = async (atEnd = false): Promise<void> => {
      if (pipeline.length < (atEnd ? 1 : PUBLISH_BATCH)) return;
      const full = pipeline;
      pipeline = redis.pipeline();
      await execOrThrow(full);
    };
    try {
      for (const name of nodes) {
        const node = this.nodes.get(name);
        if (node) {
          pipeline.hset(keys.nodeMeta, name, JSON.stringify(node.meta));
          hashesWritten.add(keys.nodeMeta);
        }
        await send();
      }
      if (deletedNodes.length > 0) pipeline.hdel(keys.nodeMeta, ...deletedNodes);
      for (const name of namespaces) {
        const namespace = this.namespaces.get(name);
        if (namespace) {
          pipeline.hset(keys.namespaceMeta, name, JSON.stringify(namespace));
          hashesWritten.add(keys.namespaceMeta);
        }
        await send();
      }
      if (deletedNamespaces.length > 0) pipeline.hdel(keys.namespaceMeta, ...deletedNamespaces);
      for (const nodeName of podNodes) {
        const onNode = this.podsByNode.get(nodeName);
        // A node without pods has no list (readers take a missing list as empty): so a deleted
        // node's list goes, instead of being renewed as an empty one for as long as this runs.
        if (onNode === undefined) pipeline.del(keys.podsOnNode(nodeName));
        else pipeline.set(keys.podsOnNode(nodeName), JSON.stringify([...onNode.values()]), 'PX', ttlMs);
        await send();
      }
      // Where each pod is bound (processing leaves out a pod a kubelet reports but the API server
      // binds elsewhere), PUBLISH_BATCH fields per command. While they are replaced, a pod not yet
      // written again is found on no node, so it is counted where it is reported.
      if (replaceBindings) {
        pipeline.del(keys.podNodes);
        bindingWrites++;
      }
      for (const batch of publishBatches(bindings)) {
        const bound: string[] = [];
        const unbound: string[] = [];
        for (const key of batch) {
          const nodeName = this.pods.get(key)?.nodeName;
          if (nodeName) bound.push(key, nodeName);
          else unbound.push(key);
        }
        if (bound.length > 0) {
          pipeline.hset(keys.podNodes, ...bound);
          hashesWritten.add(keys.podNodes);
          bindingWrites++;
        }
        if (unbound.length > 0) {
          pipeline.hdel(keys.podNodes, ...unbound);
          bindingWrites++;
        }
        await send();
      }
      for (const hash of hashesWritten) pipeline.pexpire(hash, ttlMs);
      await send(true);
    } catch (error) {
      // Writes are idempotent: mark everything of this publish again, unless it changed since.
      for (const name of nodes) if (this.nodes.has(name)) this.dirtyNodes.add(name);
      for (const name of deletedNodes) if (!this.nodes.has(name)) this.deletedNodes.add(name);
      for (const name of namespaces) if (this.namespaces.has(name)) this.dirtyNamespaces.add(name);
      for (const name of deletedNamespaces) if (!this.namespaces.has(name)) this.deletedNamespaces.add(name);
      for (const name of podNodes) this.dirtyPodNodes.add(name);
      if (replaceBindings) this.replaceBindings = true;
      for (const key of bindings) this.dirtyBindings.add(key);
      throw error;
    }
    return nodes.length + deletedNodes.length + namespaces.length + deletedNamespaces.length + podNodes.length + bindingWrites;
  }

  /**
   * Renews the expiry of what publish wrote (`PEXPIRE`, `PUBLISH_BATCH` per pipeline): the nodes',
   * namespaces' and bindings' hashes and every node's pod list, rather than writing them again: at
   * 10,000 nodes x 30 pods the lists are ~137 MB of JSON into Redis and its append-only file each
   * time. What Redis no longer has (it lost it, or it expired) is marked for the next publish
   * (a hash: every entry of it); returns how many keys were. Lists already waiting for a publish
   * are left to it.
   */
  async renewExpiry(redis: Redis, keys: RedisKeys, ttlMs: number): Promise<number> {
    /** Does Redis have a bound pod's binding by now (one not waiting for a publish)? */
    const bindingPublished = (): boolean => {
      for (const onNode of this.podsByNode.values()) for (const key of onNode.keys()) if (!this.dirtyBindings.has(key)) return true;
      return false;
    };
    // Each hash; whether it must exist (an entry of it was published and is not waiting for the
    // next publish: at a start, everything is); and how to mark all it holds for the next publish.
    // (A dirty node or namespace is always one kept here, so the sizes compare.)
    const hashes = [
      { key: keys.nodeMeta, published: this.dirtyNodes.size < this.nodes.size, markAll: () => this.nodes.forEach((_, name) => this.dirtyNodes.add(name)) },
      { key: keys.namespaceMeta, published: this.dirtyNamespaces.size < this.namespaces.size, markAll: () => this.namespaces.forEach((_, name) => this.dirtyNamespaces.add(name)) },
      { key: keys.podNodes, published: bindingPublished(), markAll: () => this.podsByNode.forEach((onNode) => onNode.forEach((_, key) => this.dirtyBindings.add(key))) },
    ];
    let missing = 0;
    const hashPipeline = redis.pipeline();
    for (const hash of hashes) hashPipeline.pexpire(hash.key, ttlMs);
    (await execOrThrow(hashPipeline)).forEach(([, renewed], i) => {
      if (renewed !== 0 || !hashes[i]!.published) return;
      hashes[i]!.markAll();
      missing++;
    });
    const names = [...this.podsByNode.keys()].filter((name) => !this.dirtyPodNodes.has(name));
    for (const batch of publishBatches(names)) {
      const pipeline = redis.pipeline();
      for (const name of batch) pipeline.pexpire(keys.podsOnNode(name), ttlMs);
      const replies = await execOrThrow(pipeline);
      replies.forEach(([, renewed], j) => {
        if (renewed !== 0) return;
        this.dirtyPodNodes.add(batch[j]!);
        missing++;
      });
    }
    return missing;
  }

  private removeFromNode(pod: PodMeta, key: string): void {
    const onNode = this.podsByNode.get(pod.nodeName);
    if (!onNode) return;
    onNode.delete(key);
    if (onNode.size === 0) this.podsByNode.delete(pod.nodeName);
    this.dirtyPodNodes.add(pod.nodeName);
  }
}

export interface Discovery {
  /** Resolves once the first list of every resource is in. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Nodes (filtered by `nodeSelector`), pods and namespaces listed and watched into `metadata`,
 * which keeps a few fields per object: no full copies of the API objects are held.
 */
export function startDiscovery(api: ApiServerConnection, metadata: ClusterMetadata, nodeSelector: string, logger: Logger): Discovery {
  /** A list+watch of `/api/v1/<resource>` (cluster-wide), lists and watch filtered by `query`. */
  const listWatch = <T extends ApiObject>(resource: string, query: Record<string, string | undefined>, handlers: ListWatchHandlers<T>): ListWatch<T> => {
    const path = `/api/v1/${resource}`;
    return new ListWatch<T>(api, resource, path, (token) => listPage<T>(api, path, query, token), query, handlers, logger);
  };
  const watches = [
    listWatch<NodeLike & ApiObject>('nodes', { labelSelector: nodeSelector || undefined }, {
      upsert: (node) => metadata.upsertNode(node),
      remove: (_namespace, name) => metadata.deleteNode(name),
    }),
    listWatch<PodLike & ApiObject>('pods', {}, {
      upsert: (pod) => metadata.upsertPod(podMeta(pod)),
      remove: (namespace, name) => metadata.deletePod(namespace, name),
    }),
    listWatch<NamespaceLike & ApiObject>('namespaces', {}, {
      upsert: (namespace) => metadata.upsertNamespace(namespaceMeta(namespace)),
      remove: (_namespace, name) => metadata.deleteNamespace(name),
    }),
  ];
  return {
    start: async () => {
      await Promise.all(watches.map((w) => w.start()));
    },
    stop: async () => {
      await Promise.all(watches.map((w) => w.stop()));
    },
  };
}
