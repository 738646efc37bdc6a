/**
 * How a window's processed metric sets are staged in Redis until every sink has written them, and
 * how they are read back. Two hashes per window W:
 *
 * `window:<W>:sets`, what the short-term store keeps as the full window. Its fields:
 *   - `@<node>`: every set of the node's scrape but the node's own (system containers, pods, pod
 *     containers), as one packed JSON array (batch-codec.ts: packMetricSets);
 *   - `node:<node>`: the node's own set, as JSON (so listing nodes reads no pod's sets);
 *   - a pod's key (a parent of sets in a node's field): `@<node>`, the field holding it;
 *   - the roll-ups' keys (namespaces, cluster): each set as JSON;
 *   - in a store written before node fields: any set's key, the set as JSON (still read).
 * `window:<W>:long`: pod or node key -> the long-term values of its sets (batch-codec.ts).
 *
 * Why one packed field per node rather than a field per set: the store keeps 140 s of full
 * windows, and at 10,000 nodes x 30 pods a field per set held ~50 KiB per node and window in
 * Redis (41 KB of JSON in 64 fields, plus a hash entry for each): 1.46 GiB for three windows.
 * Packed, a node's sets are ~7.9 KB, and its pods' references ~3 KB more. The price is on the
 * read side: one set out of a node's field costs unpacking and parsing the node's (~0.2 ms).
 *
 * A retried node job writes the same fields again, so nothing is counted twice.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { decodeMetricSet, encodeLongTermFields, encodeMetricSet, packMetricSets, unpackMetricSets } from './batch-codec.js';
import type { RedisKeys } from './keys.js';
import type { MetricSet } from './metric-set.js';
import { metricSetKey } from './metrics.js';

/** Fields holding a node's packed sets start with this; no set key does, and no set's JSON. */
const NODE_FIELD = '@';
const nodeField = (nodeName: string): string => `${NODE_FIELD}${nodeName}`;
const isNodeField = (field: string): boolean => field.startsWith(NODE_FIELD);
/** Is this field's value (as HSCAN returns it) a pod's reference to its node's field? */
const isReference = (value: Buffer): boolean => value[0] === NODE_FIELD.charCodeAt(0);

/** The `window:<W>:sets` fields and values of one node's scraped sets, as flat HSET arguments (pure). */
export function encodeNodeFields(nodeName: string, sets: readonly MetricSet[]): (string | Buffer)[] {
  const nodeKey = metricSetKey.node(nodeName);
  const field = nodeField(nodeName);
  const fields: (string | Buffer)[] = [];
  const packed: MetricSet[] = [];
  const parents = new Set<string>();
  for (const set of sets) {
    if (set.key === nodeKey) {
      fields.push(set.key, encodeMetricSet(set));
      continue;
    }
    packed.push(set);
    const parent = metricSetKey.parentOf(set.key);
    if (parent !== nodeKey) parents.add(parent);
  }
  if (packed.length === 0) return fields;
  fields.push(field, packMetricSets(packed));
  for (const parent of parents) fields.push(parent, field);
  return fields;
}

/** Queues the HSETs staging one node's scraped `sets` for window W on `commands` (a pipeline or MULTI). */
export function stageNodeSets(commands: ChainableCommander, keys: RedisKeys, windowStartMs: number, nodeName: string, sets: readonly MetricSet[], ttlMs: number): void {
  stageFields(commands, keys, windowStartMs, encodeNodeFields(nodeName, sets), sets, ttlMs);
}

/** Queues the HSETs staging `sets` (the roll-ups) for window W, one field per set. */
export function stageMetricSets(commands: ChainableCommander, keys: RedisKeys, windowStartMs: number, sets: readonly MetricSet[], ttlMs: number): void {
  const fields: string[] = [];
  for (const set of sets) fields.push(set.key, encodeMetricSet(set));
  stageFields(commands, keys, windowStartMs, fields, sets, ttlMs);
}

function stageFields(commands: ChainableCommander, keys: RedisKeys, windowStartMs: number, fields: (string | Buffer)[], sets: readonly MetricSet[], ttlMs: number): void {
  if (fields.length === 0) return;
  const longTerm = encodeLongTermFields(sets);
  commands.hset(keys.windowSets(windowStartMs), ...fields).pexpire(keys.windowSets(windowStartMs), ttlMs);
  if (longTerm.length > 0) commands.hset(keys.windowLong(windowStartMs), ...longTerm).pexpire(keys.windowLong(windowStartMs), ttlMs);
}

/**
 * The sets of one `window:<W>:sets` field, as HSCAN returns it, that `wanted` accepts; none for a
 * pod's reference to its node's field.
 */
function decodeField(field: string, value: Buffer, wanted: (key: string) => boolean): MetricSet[] {
  if (isNodeField(field)) return unpackMetricSets(value, wanted);
  if (isReference(value)) return [];
  const set = decodeMetricSet(value.toString('utf8'));
  return wanted(set.key) ? [set] : [];
}

/** The field holding the sets under `parentKey` (a pod's or node's key), given its own field's value. */
function nodeFieldOf(parentKey: string, parentValue: string | null): string | undefined {
  const nodeName = metricSetKey.nodeNameOf(parentKey);
  if (nodeName !== undefined) return nodeField(nodeName);
  return parentValue !== null && isNodeField(parentValue) ? parentValue : undefined;
}

/** How many node fields one HMGET reads when a query needs many (~8 KB each). */
const NODE_FIELDS_PER_READ = 100;

/** Reads the staged sets of windows (the short-term store's full windows, and the sinks' input). */
export class StagedSets {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Set `key` of window W; undefined when the window has none (or no longer holds it). */
  async set(windowStartMs: number, key: string): Promise<MetricSet | undefined> {
    const hash = this.keys.windowSets(windowStartMs);
    const parent = metricSetKey.parentOf(key);
    const [own, parentValue] = await this.redis.hmget(hash, key, parent);
    if (own !== null && own !== undefined && !isNodeField(own)) return decodeMetricSet(own);
    const field = nodeFieldOf(parent, parentValue ?? null);
    if (field === undefined) return undefined;
    const packed = await this.redis.hgetBuffer(hash, field);
    return packed === null ? undefined : unpackMetricSets(packed, (k) => k === key)[0];
  }

  /**
   * The sets of window W whose key starts with `prefix` (every set for ''); with `types`, only
   * sets of those types. HSCAN finds the fields under the prefix (sets, and pods' references to
   * their node's field); the node fields they name are read after, unless `types` wants nothing
   * in them (listing nodes or namespaces reads no node field).
   */
  async withPrefix(windowStartMs: number, prefix: string, types?: readonly MetricSet['type'][]): Promise<MetricSet[]> {
    const hash = this.keys.windowSets(windowStartMs);
    const wantsType = (type: MetricSet['type']): boolean => types === undefined || types.includes(type);
    const wanted = (key: string): boolean => key.startsWith(prefix);
    const followPods = wantsType('pod') || wantsType('pod_container');
    const followNodes = wantsType('sys_container');
    const found: MetricSet[] = [];
    const keep = (sets: MetricSet[]): void => {
      for (const set of sets) if (wantsType(set.type)) found.push(set);
    };
    const toRead = new Set<string>();
    const decoded = new Set<string>();
    // A prefix inside one pod's or node's keys (its containers'): that parent's field.
    const parent = metricSetKey.parentOf(prefix);
    if (parent !== prefix) {
      const field = nodeFieldOf(parent, await this.redis.hget(hash, parent));
      if (field !== undefined) toRead.add(field);
    }
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscanBuffer(hash, cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000);
      cursor = next.toString();
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const field = flat[i]!.toString('utf8');
        const value = flat[i + 1]!;
        if (isNodeField(field)) decoded.add(field);
        else if (isReference(value)) {
          if (followPods) toRead.add(value.toString('utf8'));
          continue;
        }
        // A node's own set: its system containers are in its node field.
        const nodeName = metricSetKey.nodeNameOf(field);
        if (followNodes && nodeName !== undefined && metricSetKey.parentOf(field) === field) toRead.add(nodeField(nodeName));
        keep(decodeField(field, value, wanted));
      }
    } while (cursor !== '0');
    const fields = [...toRead].filter((field) => !decoded.has(field));
    for (let i = 0; i < fields.length; i += NODE_FIELDS_PER_READ) {
      const batch = fields.slice(i, i + NODE_FIELDS_PER_READ);
      const values = await this.redis.hmgetBuffer(hash, ...batch);
      for (const value of values) if (value) keep(unpackMetricSets(value, wanted));
    }
    return found;
  }

  /** Every set of window W, in chunks of a few thousand sets (so a reader's memory stays flat). */
  async *chunks(windowStartMs: number): AsyncGenerator<MetricSet[]> {
    const all = (): boolean => true;
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscanBuffer(this.keys.windowSets(windowStartMs), cursor, 'COUNT', 1000);
      cursor = next.toString();
      const sets: MetricSet[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) sets.push(...decodeField(flat[i]!.toString('utf8'), flat[i + 1]!, all));
      if (sets.length > 0) yield sets;
    } while (cursor !== '0');
  }
}

/** `text` as a Redis glob that matches only itself. */
const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');
