/**
 * The scrape handler (no BullMQ here): one node's `/stats/summary` for one window -> the
 * processor's job. Every failure becomes an outcome with its reason; only a programming error
 * throws, so a bad kubelet never fails the job and never blocks the window.
 */
import { encodeMetricSets } from '../common/batch-codec.js';
import type { ProcessJob, ScrapeJob } from '../common/jobs.js';
import { parseSummary, SummaryParseError } from '../common/summary-parser.js';
import { ScrapeError, type FetchedSummary } from './kubelet-client.js';

export interface ScrapeDeps {
  fetchSummary(nodeName: string, url: string): Promise<FetchedSummary>;
  maxResponseBytes: number;
  now(): number;
}

export const SUMMARY_PATH = '/stats/summary';

export async function scrapeNode(job: ScrapeJob, deps: ScrapeDeps): Promise<ProcessJob> {
  const base = { windowStartMs: job.windowStartMs, nodeName: job.nodeName };
  const started = deps.now();
  if (started >= job.deadlineMs) {
    return { ...base, outcome: { status: 'failed', reason: 'too_late', message: `scrape would start ${started - job.deadlineMs} ms after the window deadline`, durationMs: 0 } };
  }
  try {
    const fetched = await deps.fetchSummary(job.nodeName, `${job.kubeletUrl}${SUMMARY_PATH}`);
    const batch = parseSummary(fetched.body, { nodeName: job.nodeName, receivedAtMs: fetched.receivedAtMs, maxBytes: deps.maxResponseBytes });
    return {
      ...base,
      outcome: { status: 'ok', bytes: fetched.body.length, durationMs: Math.round(fetched.latencyMs), receivedAtMs: fetched.receivedAtMs },
      batch: encodeMetricSets(batch.metricSets),
    };
  } catch (error) {
    const durationMs = deps.now() - started;
    if (error instanceof ScrapeError) return { ...base, outcome: { status: 'failed', reason: error.reason, message: error.message, durationMs } };
    if (error instanceof SummaryParseError) return { ...base, outcome: { status: 'failed', reason: 'bad_summary', message: error.message, durationMs } };
    throw error;
  }
}
