/**
 * What a scraper keeps of each node it processes, from one window to the next: the node's pod
 * list as last parsed, and its rate sample as last taken. A node's scrape shard goes to the same
 * scraper window after window (scraper/shards.ts), so the scraper that processes a node in window
 * W most often processed it in W - 1 too. Redis stays the truth (any scraper can process any node):
 *
 * - The pod list is still read from Redis every time, as bytes (the scheduler's JSON,
 *   `podsOnNode`), and parsed again only when they differ from the kept ones, so a change is seen
 *   at the next scrape and nothing can be stale. At 30 pods each scrape saves `JSON.parse` (~40
 *   µs), the set of listed pods (~3 µs) and a 14 KB string, for a byte comparison (~0.4 µs).
 * - The rate sample of window P is used for W only when Redis names P as the node's newest sample
 *   before W (HKEYS of its rate state), and saves reading and unpacking it (~60-80 µs). It is what
 *   this scraper wrote to Redis for P; a retry of P run elsewhere may have written another (a
 *   sample of the same window, so the rates are as right).
 *
 * Kept per node at 30 pods: the list's ~14 KB of bytes (outside V8's heap), its ~17 KB of parsed
 * objects, and the sample's ~64 small sets. A node not processed for `forgetAfterMs` is forgotten
 * (moved to another scraper, or gone).
 */
import type { PodMeta } from '../common/jobs.js';
import { podNodesField } from '../common/keys.js';
import type { MetricSet } from '../common/metric-set.js';

export interface PodList {
  pods: readonly PodMeta[];
  /** The listed pods, as `namespace/name` (podNodesField). */
  listed: ReadonlySet<string>;
}

interface KeptNode {
  podBytes?: Buffer;
  podList?: PodList;
  rateWindowStartMs?: number;
  rateSample?: readonly MetricSet[];
  usedAtMs: number;
}

const NO_PODS: PodList = { pods: [], listed: new Set() };

/** `pods` as `namespace/name` (podNodesField). */
export const listedPods = (pods: readonly PodMeta[]): Set<string> => new Set(pods.map((pod) => podNodesField(pod.namespace, pod.name)));

export class KeptNodeState {
  private readonly nodes = new Map<string, KeptNode>();
  private sweptAtMs: number;

  /** `now` in ms (tests pass their own clock). */
  constructor(
    private readonly forgetAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweptAtMs = now();
  }

  /** Node `nodeName`'s pods, from its list's bytes as Redis holds them (null: no list, so no pods). */
  podList(nodeName: string, bytes: Buffer | null): PodList {
    const node = this.node(nodeName);
    if (bytes === null || bytes.length === 0) {
      node.podBytes = node.podList = undefined;
      return NO_PODS;
    }
    if (node.podList === undefined || node.podBytes === undefined || !node.podBytes.equals(bytes)) {
      const pods = JSON.parse(bytes.toString('utf8')) as PodMeta[];
      // A copy: `bytes` may be a view of the Redis client's read buffer, which it would keep alive.
      node.podBytes = Buffer.from(bytes);
      node.podList = { pods, listed: listedPods(pods) };
    }
    return node.podList;
  }

  /** The node's rate sample of window `windowStartMs`, if this is the one kept. */
  rateSample(nodeName: string, windowStartMs: number): readonly MetricSet[] | undefined {
    const node = this.nodes.get(nodeName);
    return node?.rateWindowStartMs === windowStartMs ? node.rateSample : undefined;
  }

  /** Keeps the node's rate sample of window `windowStartMs` (in place of an older one). */
  keepRateSample(nodeName: string, windowStartMs: number, sets: readonly MetricSet[]): void {
    const node = this.node(nodeName);
    if (node.rateWindowStartMs !== undefined && node.rateWindowStartMs > windowStartMs) return;
    node.rateWindowStartMs = windowStartMs;
    node.rateSample = sets;
  }

  /** Nodes with something kept. */
  get size(): number {
    return this.nodes.size;
  }

  private node(nodeName: string): KeptNode {
    const nowMs = this.now();
    this.sweep(nowMs);
    let node = this.nodes.get(nodeName);
    if (node === undefined) this.nodes.set(nodeName, (node = { usedAtMs: nowMs }));
    node.usedAtMs = nowMs;
    return node;
  }

  /** Forgets the nodes not processed for `forgetAfterMs`, at most once in that long. */
  private sweep(nowMs: number): void {
    if (nowMs - this.sweptAtMs < this.forgetAfterMs) return;
    this.sweptAtMs = nowMs;
    for (const [nodeName, node] of this.nodes) if (nowMs - node.usedAtMs >= this.forgetAfterMs) this.nodes.delete(nodeName);
  }
}
