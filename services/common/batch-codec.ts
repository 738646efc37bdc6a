/**
 * Metric sets as they travel between stages and live in Redis (staging, the short-term store,
 * rate samples): compact JSON, one array per set,
 *
 *   [key, type, labels, createTimeMs | null, scrapeTimeMs, sampleTimeOffsets, values, labeledGroups]
 *
 * - sampleTimeOffsets: each clock of CLOCKS in order, its sample time minus scrapeTimeMs (ms), or
 *   null; trailing nulls left out.
 * - values: flat pairs [metric, value, metric, value, ...]; a metric is its code (its index in
 *   METRIC_CODES) or, for a name without a code, the name itself.
 * - labeledGroups: [labels, pairs] per distinct label set, in first-seen order (a filesystem's
 *   five metrics share one group instead of repeating name/labels/value keys).
 * - labels (the set's and each group's): flat pairs [label, value, ...] in the labels' order; a
 *   label is its code (its index in LABEL_CODES) or, without a code, the name itself; a value is
 *   the string, or a number standing for a value already written: -1 the set's type, i >= 0
 *   the value of the i-th label of the same labels (hostname is usually nodename). Label values
 *   are always strings, so a number is never ambiguous.
 * A bigint value (above 2^53) is written as its decimal string; no metric value is otherwise a
 * string, and a metric is always at an even index, so decoding is exact and unambiguous.
 *
 * Why not the MetricSet object as JSON: the keys (`"name":`, `"labels":{"resource_id":"/"}`,
 * `"sampleTimesMs":{...}`) made up ~40% of every set; metric names as object keys were ~40% of
 * what was left (61 KB -> 37 KB per node at 30 pods with codes). Label names, and label values
 * that repeat the set's type or another label, were ~1/6 of a set after that (49 -> 41 KB per
 * node at 30 pods, with the enrichment labels). Bytes are CPU here: every staged byte is encoded,
 * written to Redis (and its AOF), copied into the store and read back by sinks.
 * The sets (and rate-sample entries) are written straight into bytes (JsonBytesWriter; the same
 * bytes as JSON.stringify of the arrays above), not built as those arrays first: at 30 pods the
 * heap an encoding allocates fell from ~320 to ~36 KB per node (~30 since values objects stay
 * out of V8's dictionary mode: metric-set.ts, newMetricValues), and the limit's work per node by
 * ~9% (throwaway harness, 50 simulated nodes, three alternating runs of each).
 * `decodeMetricSet` also reads the older forms (labels as objects; values as name -> value
 * objects; the object as JSON), so a store written by an older version stays readable through an
 * upgrade.
 */
import zlib from 'node:zlib';
import { JsonBytesWriter } from './json-bytes.js';
import { newMetricValues, normalizeInteger, sameLabels, type Labels, type LabeledValue, type MetricSet, type MetricValue } from './metric-set.js';
import { metricSetKey, RATE_OF_CUMULATIVE, type SampleClock } from './metrics.js';

const CLOCKS: readonly Exclude<SampleClock, 'scrape'>[] = ['cpu', 'memory', 'network', 'fs', 'accelerator'];

/**
 * Metric codes: a metric's code is its index here. Stored data refers to these indexes, so this
 * list is append-only: never reorder or remove a name (a test checks every catalogue metric has one).
 */
export const METRIC_CODES: readonly string[] = [
  'uptime', 'restart_count', 'cpu/usage', 'cpu/usage_rate', 'cpu/request', 'cpu/limit', 'cpu/node_capacity', 'cpu/node_allocatable',
  'cpu/node_reservation', 'cpu/node_utilization', 'memory/usage', 'memory/working_set', 'memory/rss', 'memory/cache', 'memory/page_faults',
  'memory/page_faults_rate', 'memory/major_page_faults', 'memory/major_page_faults_rate', 'memory/request', 'memory/limit',
  'memory/node_capacity', 'memory/node_allocatable', 'memory/node_reservation', 'memory/node_utilization', 'network/rx', 'network/rx_rate',
  'network/rx_errors', 'network/rx_errors_rate', 'network/tx', 'network/tx_rate', 'network/tx_errors', 'network/tx_errors_rate',
  'filesystem/usage', 'filesystem/limit', 'filesystem/available', 'filesystem/inodes', 'filesystem/inodes_free', 'disk/io_read_bytes',
  'disk/io_read_bytes_rate', 'disk/io_write_bytes', 'disk/io_write_bytes_rate', 'ephemeral_storage/usage', 'ephemeral_storage/request',
  'ephemeral_storage/limit', 'ephemeral_storage/node_capacity', 'ephemeral_storage/node_allocatable', 'ephemeral_storage/node_reservation',
  'ephemeral_storage/node_utilization', 'accelerator/memory_total', 'accelerator/memory_used', 'accelerator/duty_cycle',
];
const CODE_OF: ReadonlyMap<string, number> = new Map(METRIC_CODES.map((name, code) => [name, code]));

/** Label codes, as METRIC_CODES: append-only (a test checks every label of LABEL has one). */
export const LABEL_CODES: readonly string[] = [
  'type', 'nodename', 'hostname', 'host_id', 'namespace_name', 'namespace_id', 'pod_name', 'pod_id', 'container_name',
  'container_base_image', 'labels', 'resource_id', 'pod_namespace', 'make', 'model', 'accelerator_id',
];
const LABEL_CODE_OF: ReadonlyMap<string, number> = new Map(LABEL_CODES.map((name, code) => [name, code]));
/** A label value written as this number is the set's type. */
const SET_TYPE_REF = -1;

type JsonValue = number | string;
/** [metric code or name, value, ...] */
type Pairs = JsonValue[];
/** [label code or name, value or reference, ...] */
type LabelPairs = (number | string)[];
type CompactSet = [string, MetricSet['type'], LabelPairs | Labels, number | null, number, (number | null)[], Pairs | Record<string, JsonValue>, [LabelPairs | Labels, Pairs | Record<string, JsonValue>][]];

const revive = (value: JsonValue): MetricValue => (typeof value === 'string' ? normalizeInteger(BigInt(value)) : value);
const metricName = (ref: JsonValue): string => (typeof ref === 'number' ? (METRIC_CODES[ref] ?? `unknown/${ref}`) : ref);

function fromLabelPairs(pairs: LabelPairs | Labels, setType: string): Labels {
  if (!Array.isArray(pairs)) return pairs;
  const labels: Labels = {};
  const values: string[] = [];
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const ref = pairs[i + 1]!;
    const value = typeof ref === 'string' ? ref : ref === SET_TYPE_REF ? setType : (values[ref] ?? '');
    const label = pairs[i]!;
    labels[typeof label === 'number' ? (LABEL_CODES[label] ?? `unknown_${label}`) : label] = value;
    values.push(value);
  }
  return labels;
}

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const COMMA = 0x2c;
/** No label reference (the value is written as a string). */
const NO_REF = -2;

/** A label's or metric's code, or its name without one. */
function writeCode(out: JsonBytesWriter, code: number | undefined, name: string): void {
  if (code === undefined) out.string(name);
  else out.number(code);
}

/** A metric's code (or name), then its value (a bigint as its decimal string). */
function writeMetricValue(out: JsonBytesWriter, name: string, value: MetricValue): void {
  writeCode(out, CODE_OF.get(name), name);
  out.char(COMMA);
  if (typeof value === 'bigint') out.string(value.toString());
  else out.number(value);
}

/** The values a labels object wrote as strings, by label index (undefined: written as a reference); reused, read below the labels' count only. */
const writtenLabelValues: (string | undefined)[] = [];

/** `labels` as flat pairs, a value repeating the set's type or an earlier label's written as a reference (the module comment). */
function writeLabels(out: JsonBytesWriter, labels: Labels, setType: string): void {
  out.char(OPEN);
  let count = 0;
  for (const name in labels) {
    const value = labels[name]!;
    if (count > 0) out.char(COMMA);
    writeCode(out, LABEL_CODE_OF.get(name), name);
    out.char(COMMA);
    let ref = value === setType ? SET_TYPE_REF : NO_REF;
    for (let i = 0; i < count && ref === NO_REF; i++) if (writtenLabelValues[i] === value) ref = i;
    if (ref === NO_REF) out.string(value);
    else out.number(ref);
    writtenLabelValues[count++] = ref === NO_REF ? value : undefined;
  }
  out.char(CLOSE);
}

function writeSampleTimeOffsets(out: JsonBytesWriter, set: MetricSet): void {
  out.char(OPEN);
  let written = 0;
  for (let i = 0; i < CLOCKS.length; i++) {
    const timeMs = set.sampleTimesMs[CLOCKS[i]!];
    if (timeMs === undefined) continue;
    for (; written < i; written++) {
      if (written > 0) out.char(COMMA);
      out.nullValue();
    }
    if (written++ > 0) out.char(COMMA);
    out.number(timeMs - set.scrapeTimeMs);
  }
  out.char(CLOSE);
}

/** For the set being written: each labeled value's group (-1: left out), and each group's labels; reused (not emptied: a shrinking array is reallocated when it grows again), read below the set's counts only. */
const groupOfValue: number[] = [];
const groupLabels: Labels[] = [];

/** The set's labeled values as label groups; with `only`, just the metrics it names. */
function writeLabeledGroups(out: JsonBytesWriter, set: MetricSet, only?: ReadonlyMap<string, unknown>): void {
  const labeled = set.labeled;
  let groups = 0;
  for (let v = 0; v < labeled.length; v++) {
    const { name, labels } = labeled[v]!;
    groupOfValue[v] = -1;
    if (only !== undefined && !only.has(name)) continue;
    // The newest group with these labels, unless it already holds this metric: then a group of
    // its own (two values of one metric with the same labels get two groups, so nothing is lost).
    let group = -1;
    for (let g = groups - 1; g >= 0 && group === -1; g--) if (sameLabels(groupLabels[g]!, labels)) group = g;
    for (let u = 0; u < v && group !== -1; u++) if (groupOfValue[u] === group && labeled[u]!.name === name) group = -1;
    if (group === -1) {
      groupLabels[groups] = labels;
      group = groups++;
    }
    groupOfValue[v] = group;
  }
  out.char(OPEN);
  for (let g = 0; g < groups; g++) {
    if (g > 0) out.char(COMMA);
    out.char(OPEN);
    writeLabels(out, groupLabels[g]!, set.type);
    out.char(COMMA);
    out.char(OPEN);
    let first = true;
    for (let v = 0; v < labeled.length; v++) {
      if (groupOfValue[v] !== g) continue;
      if (!first) out.char(COMMA);
      first = false;
      writeMetricValue(out, labeled[v]!.name, labeled[v]!.value);
    }
    out.char(CLOSE);
    out.char(CLOSE);
  }
  out.char(CLOSE);
}

const RATE_SOURCES: readonly string[] = [...RATE_OF_CUMULATIVE.keys()];

/** One set in the compact form (the module comment); with `rateSample`, only what the next window's rates read (no labels, the counters rates come from). */
function writeSet(out: JsonBytesWriter, set: MetricSet, rateSample = false): void {
  out.char(OPEN);
  out.string(set.key);
  out.char(COMMA);
  out.string(set.type);
  out.char(COMMA);
  if (rateSample) {
    out.char(OPEN);
    out.char(CLOSE);
  } else {
    writeLabels(out, set.labels, set.type);
  }
  out.char(COMMA);
  if (set.createTimeMs === undefined) out.nullValue();
  else out.number(set.createTimeMs);
  out.char(COMMA);
  out.number(set.scrapeTimeMs);
  out.char(COMMA);
  writeSampleTimeOffsets(out, set);
  out.char(COMMA);
  out.char(OPEN);
  let first = true;
  if (rateSample) {
    for (const name of RATE_SOURCES) {
      const value = set.values[name];
      if (value === undefined) continue;
      if (!first) out.char(COMMA);
      first = false;
      writeMetricValue(out, name, value);
    }
  } else {
    for (const name in set.values) {
      if (!first) out.char(COMMA);
      first = false;
      writeMetricValue(out, name, set.values[name]!);
    }
  }
  out.char(CLOSE);
  out.char(COMMA);
  writeLabeledGroups(out, set, rateSample ? RATE_OF_CUMULATIVE : undefined);
  out.char(CLOSE);
}

/**
 * The writer the sets are encoded with, reused (each encoding is written and read with no await
 * in between). It keeps the largest node's encoding it has held (~41 KB at 30 pods).
 */
const setWriter = new JsonBytesWriter();

/** `sets` in the compact form as UTF-8 JSON: a view of the shared writer, valid until the next encoding. */
function writeSets(sets: readonly MetricSet[]): Buffer {
  const out = setWriter.reset();
  out.char(OPEN);
  for (let i = 0; i < sets.length; i++) {
    if (i > 0) out.char(COMMA);
    writeSet(out, sets[i]!);
  }
  out.char(CLOSE);
  return out.view();
}

/** One set in the compact form as JSON text. */
function setText(set: MetricSet): string {
  writeSet(setWriter.reset(), set);
  return setWriter.view().toString('utf8');
}

/** The writer rate samples are encoded with, reused as setWriter is (~11 KB at 30 pods). */
const rateSampleWriter = new JsonBytesWriter(16 * 1024);

/**
 * A node's rate sample as Redis keeps it: its sets reduced to what the next window's rates read
 * (their times and the counters rates are computed from; no labels), in the stored form, packed
 * (unpackMetricSets reads it back as sets with just those). A set with no values is left out.
 * Taken before rates and enrichment add to the sets. Written straight into one buffer and packed
 * from it: an intermediate MetricSet per set (copying its values object entry by entry) cost
 * ~0.37 ms more per node of 30 pods; a string per set, joined, then packed, 95-119 µs to encode
 * and pack against 76-81 (fastest of 60 passes over 50 simulated nodes, three alternating runs
 * each; throwaway).
 */
export function packRateSample(sets: readonly MetricSet[]): Buffer {
  const out = rateSampleWriter.reset();
  out.char(OPEN);
  let written = 0;
  for (const set of sets) {
    if (set.labeled.length === 0 && !hasValues(set.values)) continue;
    if (written++ > 0) out.char(COMMA);
    writeSet(out, set, true);
  }
  out.char(CLOSE);
  return packText(out.view());
}

const hasValues = (values: MetricSet['values']): boolean => {
  for (const _name in values) return true;
  return false;
};

/** Calls `each` with every metric and value, from pairs or from the older name -> value object. */
function forEachValue(encoded: Pairs | Record<string, JsonValue>, each: (name: string, value: MetricValue) => void): void {
  if (Array.isArray(encoded)) {
    for (let i = 0; i + 1 < encoded.length; i += 2) each(metricName(encoded[i]!), revive(encoded[i + 1]!));
  } else {
    for (const name in encoded) each(name, revive(encoded[name]!));
  }
}

function fromCompact([key, type, labels, createTimeMs, scrapeTimeMs, offsets, values, groups]: CompactSet): MetricSet {
  const sampleTimesMs: MetricSet['sampleTimesMs'] = {};
  for (let i = 0; i < offsets.length; i++) if (offsets[i] !== null) sampleTimesMs[CLOCKS[i]!] = scrapeTimeMs + offsets[i]!;
  const labeled: LabeledValue[] = [];
  for (const [groupLabels, groupValues] of groups) {
    const decodedLabels = fromLabelPairs(groupLabels, type);
    forEachValue(groupValues, (name, value) => labeled.push({ name, labels: decodedLabels, value }));
  }
  const decodedValues = newMetricValues();
  forEachValue(values, (name, value) => (decodedValues[name] = value));
  const set: MetricSet = { key, type, labels: fromLabelPairs(labels, type), scrapeTimeMs, sampleTimesMs, values: decodedValues, labeled };
  if (createTimeMs !== null) set.createTimeMs = createTimeMs;
  return set;
}

/** A set in the older object form (MetricSet as JSON, bigints as strings), revived in place. */
function fromObject(set: MetricSet): MetricSet {
  for (const name in set.values) {
    const value = set.values[name]!;
    if (typeof value === 'string') set.values[name] = revive(value);
  }
  for (const labeled of set.labeled) {
    if (typeof labeled.value === 'string') (labeled as { value: MetricValue }).value = revive(labeled.value);
  }
  return set;
}

const fromJson = (parsed: CompactSet | MetricSet): MetricSet => (Array.isArray(parsed) ? fromCompact(parsed) : fromObject(parsed));

export function encodeMetricSets(sets: readonly MetricSet[]): string {
  return writeSets(sets).toString('utf8');
}

export const encodeMetricSet = (set: MetricSet): string => setText(set);

/** The sets of `text` (encodeMetricSets' form); with `wanted`, only those whose key it accepts (the rest are not decoded). */
export function decodeMetricSets(text: string, wanted?: (key: string) => boolean): MetricSet[] {
  const parsed = JSON.parse(text) as (CompactSet | MetricSet)[];
  if (wanted === undefined) return parsed.map(fromJson);
  const sets: MetricSet[] = [];
  for (const one of parsed) if (wanted(Array.isArray(one) ? one[0] : one.key)) sets.push(fromJson(one));
  return sets;
}

/**
 * Packed text, for what Redis holds in bulk (a node's staged sets, rate samples): a marker byte,
 * then the UTF-8 text compressed with brotli at quality 1. A node's sets at 30 pods, 41 KB of
 * JSON, pack to ~7.9 KB in ~0.1 ms and unpack in ~0.08 ms (deflate at level 1: 8.5 KB in 0.2 ms).
 * Every packed byte is one Redis does not keep, write to its append-only file or rewrite, and
 * that no client writes to or reads from its socket.
 */
const PACKED_MARK = 0x01;
const PACK_OPTIONS = (bytes: number): zlib.BrotliOptions => ({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes } });

export function packText(text: string | Buffer): Buffer {
  const body = zlib.brotliCompressSync(text, PACK_OPTIONS(text.length));
  const packed = Buffer.allocUnsafe(body.length + 1);
  packed[0] = PACKED_MARK;
  body.copy(packed, 1);
  return packed;
}

/** The text of `packed`; a value written unpacked (JSON, which never starts with the marker) is returned as it is. */
export function unpackText(packed: Buffer): string {
  if (packed[0] !== PACKED_MARK) return packed.toString('utf8');
  return zlib.brotliDecompressSync(packed.subarray(1)).toString('utf8');
}

/** `sets` as Redis keeps them in bulk (a node's staged sets, a rate sample): encodeMetricSets, packed. */
export const packMetricSets = (sets: readonly MetricSet[]): Buffer => packText(writeSets(sets));

/** The sets of a packMetricSets value (or of one written unpacked); with `wanted`, only those whose key it accepts. */
export const unpackMetricSets = (packed: Buffer, wanted?: (key: string) => boolean): MetricSet[] => decodeMetricSets(unpackText(packed), wanted);

export function decodeMetricSet(text: string): MetricSet {
  return fromJson(JSON.parse(text) as CompactSet | MetricSet);
}

/** The set as a readable JSON object (for people: the log sink), bigints as decimal strings. */
export function metricSetJson(set: MetricSet): string {
  return JSON.stringify(set, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

/**
 * The metrics the short-term store keeps past the full retention (Heapster's model kept
 * cpu/usage_rate and memory/usage longest), joined with `|` in this order: a set's long-term
 * values. An absent value is an empty part.
 *
 * `window:<W>:long` holds them one field per pod (and per node), not per set: the field is
 * `longTermFieldOf(key)` and its value the JSON pairs [key suffix, values, ...] of every set under
 * it ("" for the pod itself, "/container:app" for its container). A pod's sets all come from one
 * node's scrape, so one staging write has the whole field. One field per set cost Redis ~109
 * bytes per set and window (the set key, a hash entry and two strings for ~20 bytes of values);
 * per pod, ~73 (Redis's MEMORY USAGE of one window's hash of 200 simulated nodes x 30 pods, both
 * ways). The store keeps 15 minutes of them for every set: at 10,000 nodes x 30 pods, ~1.0 GB
 * one field per set against ~0.7 GB per pod.
 */
export const LONG_TERM_METRICS = ['cpu/usage_rate', 'memory/usage'] as const;
export type LongTermMetric = (typeof LONG_TERM_METRICS)[number];

/** The set's long-term values, or undefined when it has none. */
export function encodeLongTermValues(set: MetricSet): string | undefined {
  const rate = set.values['cpu/usage_rate'];
  const memory = set.values['memory/usage'];
  if (rate === undefined && memory === undefined) return undefined;
  return `${rate === undefined ? '' : rate.toString()}|${memory === undefined ? '' : memory.toString()}`;
}

/**
 * The `window:<W>:long` field holding a set's long-term values: its pod's key for a pod's
 * container, its node's for a system container, else its own key.
 */
export const longTermFieldOf = (key: string): string => metricSetKey.parentOf(key);

/** The `window:<W>:long` fields and values for `sets`, as flat HSET arguments. */
export function encodeLongTermFields(sets: readonly MetricSet[]): string[] {
  const groups = new Map<string, string[]>();
  for (const set of sets) {
    const values = encodeLongTermValues(set);
    if (values === undefined) continue;
    const field = longTermFieldOf(set.key);
    let group = groups.get(field);
    if (group === undefined) groups.set(field, (group = []));
    group.push(set.key.slice(field.length), values);
  }
  const fields: string[] = [];
  for (const [field, group] of groups) fields.push(field, JSON.stringify(group));
  return fields;
}

/** One long-term metric out of one set's values (`rate|memory`); undefined when the set had none. */
export function decodeLongTermValue(text: string, metric: LongTermMetric): MetricValue | undefined {
  const part = text.split('|')[LONG_TERM_METRICS.indexOf(metric)];
  return part ? normalizeInteger(BigInt(part)) : undefined;
}

/**
 * One long-term metric of set `key` out of `text`, the value of field `field` of
 * `window:<W>:long`: the set's own field (`longTermFieldOf(key)`), or its key itself in a store
 * written before fields were per pod (one set's `rate|memory` per field).
 */
export function readLongTermValue(text: string | null | undefined, field: string, key: string, metric: LongTermMetric): MetricValue | undefined {
  if (text === null || text === undefined) return undefined;
  if (!text.startsWith('[')) return field === key ? decodeLongTermValue(text, metric) : undefined;
  if (field !== longTermFieldOf(key)) return undefined;
  const suffix = key.slice(field.length);
  const group = JSON.parse(text) as string[];
  for (let i = 0; i + 1 < group.length; i += 2) if (group[i] === suffix) return decodeLongTermValue(group[i + 1]!, metric);
  return undefined;
}
