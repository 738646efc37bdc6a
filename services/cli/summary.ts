/**
 * `podometer summary FILE [--previous FILE] [--format json|table]`: what one kubelet summary turns
 * into, and with `--previous` the rates between two samples of the same node.
 * `--format json` prints exactly Heapster's `/api/v1/metric-export` shape.
 */
import { readFile } from 'node:fs/promises';
import { loadRoleConfig, usage, type OptionSpec } from '../common/config.js';
import { formatValue, toMetricExport } from '../common/metric-export.js';
import { jsonSafeValue, sampleTimeMs, type MetricSet, type NodeBatch } from '../common/metric-set.js';
import { DEFAULT_MAX_SUMMARY_BYTES, parseSummary } from '../common/summary-parser.js';
import { METRICS_BY_NAME } from '../common/metrics.js';
import { applyRates, type RateSkipReason } from '../processor/rates.js';

export const SUMMARY_OPTIONS: readonly OptionSpec[] = [
  { name: 'previous', type: 'string', valueName: 'FILE', description: 'An earlier summary of the same node; adds the rates between the two.', env: false },
  { name: 'format', type: 'string', choices: ['table', 'json'], default: 'table', description: 'table for people, json for Heapster metric-export.', env: false },
  { name: 'node', type: 'string', valueName: 'NAME', description: 'Node name to use instead of the one in the file.', env: false },
  { name: 'max-bytes', type: 'integer', min: 1024, default: DEFAULT_MAX_SUMMARY_BYTES, description: 'Reject a summary larger than this.', env: false },
];

export const SUMMARY_HELP = usage(
  'podometer summary FILE [--previous FILE] [--format json|table]',
  'Prints the metric sets a kubelet /stats/summary response turns into (FILE, or - for stdin).',
  SUMMARY_OPTIONS,
);

export interface SummaryResult {
  readonly batch: NodeBatch;
  readonly skipped: Record<RateSkipReason, number>;
  /** The previous sample of each metric set, by key (rate points start at its time). */
  readonly previousSets: Map<string, MetricSet>;
}

/** Parses `current` (and `previous`) and adds rates; pure apart from reading nothing. */
export function summarize(current: string, previous: string | undefined, options: { nodeName?: string; maxBytes: number }): SummaryResult {
  const parseOptions = { maxBytes: options.maxBytes, ...(options.nodeName ? { nodeName: options.nodeName } : {}) };
  const batch = parseSummary(current, parseOptions);
  const skipped: Record<RateSkipReason, number> = { restart: 0, counter_decrease: 0, no_time_advance: 0, missing_previous: 0 };
  const previousSets = new Map<string, MetricSet>();
  if (previous !== undefined) {
    const before = parseSummary(previous, { ...parseOptions, nodeName: batch.nodeName });
    const byKey = new Map(before.metricSets.map((s) => [s.key, s]));
    for (const set of batch.metricSets) {
      const earlier = byKey.get(set.key);
      if (!earlier) continue;
      previousSets.set(set.key, earlier);
      for (const skip of applyRates(earlier, set).skipped) skipped[skip.reason]++;
    }
  }
  return { batch, skipped, previousSets };
}

export function renderJson(result: SummaryResult): string {
  const exported = toMetricExport(result.batch.metricSets, (set, metric) => {
    const definition = METRICS_BY_NAME.get(metric);
    const previous = result.previousSets.get(set.key);
    return definition?.rateOf && previous ? sampleTimeMs(previous, definition.clock) : set.scrapeTimeMs;
  });
  return JSON.stringify(exported, null, 2);
}

export function renderTable(result: SummaryResult): string {
  const rows: string[][] = [['METRIC SET', 'METRIC', 'RESOURCE', 'VALUE', 'RAW']];
  for (const set of result.batch.metricSets) {
    for (const name of Object.keys(set.values).sort()) {
      const value = set.values[name]!;
      rows.push([set.key, name, '', formatValue(name, value), String(jsonSafeValue(value))]);
    }
    for (const labeled of set.labeled) {
      const resource = Object.values(labeled.labels).filter((v) => v !== '').join(' ');
      rows.push([set.key, labeled.name, resource, formatValue(labeled.name, labeled.value), String(jsonSafeValue(labeled.value))]);
    }
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((r) => r[column]!.length)));
  const lines = rows.map((r) => r.map((cell, column) => (column >= 3 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd());
  const counts = result.batch.metricSets.reduce<Record<string, number>>((acc, s) => ((acc[s.type] = (acc[s.type] ?? 0) + 1), acc), {});
  lines.push('', `node ${result.batch.nodeName}: ${Object.entries(counts).map(([t, n]) => `${n} ${t}`).join(', ')}`);
  const skipped = Object.entries(result.skipped).filter(([, n]) => n > 0);
  if (skipped.length > 0) lines.push(`rates not computed: ${skipped.map(([reason, n]) => `${n} ${reason}`).join(', ')}`);
  for (const note of result.batch.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}

async function readInput(path: string): Promise<string> {
  if (path !== '-') return readFile(path, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function runSummaryCommand(argv: readonly string[]): Promise<number> {
  const config = loadRoleConfig(SUMMARY_OPTIONS, argv, SUMMARY_HELP);
  if (!config) return 0;
  if (config.positionals.length !== 1) {
    console.error(`podometer summary: give exactly one FILE (got ${config.positionals.length})\n\n${SUMMARY_HELP}`);
    return 2;
  }
  const { get } = config;
  const previousPath = get.optionalString('previous');
  const [current, previous] = await Promise.all([readInput(config.positionals[0]!), previousPath ? readFile(previousPath, 'utf8') : undefined]);
  const nodeName = get.optionalString('node');
  const result = summarize(current, previous, { maxBytes: get.number('max-bytes'), ...(nodeName ? { nodeName } : {}) });
  console.log(get.string('format') === 'json' ? renderJson(result) : renderTable(result));
  return 0;
}
