/**
 * The scrape handler (no BullMQ here): one node's `/stats/summary` for one window -> the scraped
 * node that processing takes. Every failure becomes an outcome with its reason; only a
 * programming error throws, so a bad kubelet never fails the job and never blocks the window.
 *
 * The summary is passed on as the kubelet sent it (checked to be within the size limit and valid
 * UTF-8) and parsed once, by processing. A summary that does not parse is reported there with
 * reason `bad_summary`.
 */
import type { ScrapedNode, ScrapeJob } from '../common/jobs.js';
import { checkSummaryBody, SummaryParseError } from '../common/summary-parser.js';
import { ScrapeError, type FetchedSummary } from './kubelet-client.js';

export interface ScrapeDeps {
  fetchSummary(nodeName: string, url: string): Promise<FetchedSummary>;
  maxResponseBytes: number;
  now(): number;
}

export const SUMMARY_PATH = '/stats/summary';

export async function scrapeNode(job: ScrapeJob, deps: ScrapeDeps): Promise<ScrapedNode> {
  const base = { windowStartMs: job.windowStartMs, nodeName: job.nodeName };
  const started = deps.now();
  if (started >= job.deadlineMs) {
    return { ...base, outcome: { status: 'failed', reason: 'too_late', message: `scrape would start ${started - job.deadlineMs} ms after the window deadline`, durationMs: 0 } };
  }
  try {
    const fetched = await deps.fetchSummary(job.nodeName, `${job.kubeletUrl}${SUMMARY_PATH}`);
    checkSummaryBody(fetched.body, job.nodeName, deps.maxResponseBytes);
    return { ...base, outcome: { status: 'ok', bytes: fetched.body.length, durationMs: Math.round(fetched.latencyMs), receivedAtMs: fetched.receivedAtMs }, body: fetched.body };
  } catch (error) {
    const durationMs = deps.now() - started;
    if (error instanceof ScrapeError) return { ...base, outcome: { status: 'failed', reason: error.reason, message: error.message, durationMs } };
    if (error instanceof SummaryParseError) return { ...base, outcome: { status: 'failed', reason: 'bad_summary', message: error.message, durationMs } };
    throw error;
  }
}
