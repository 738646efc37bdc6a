/**
 * The scrape handlers (no BullMQ here): `runScrapeJob` runs a job's nodes; `scrapeNode` turns one
 * node's `/stats/summary` for one window into the scraped node that processing takes. Every
 * failure becomes an outcome with its reason; only a programming error throws, so a bad kubelet
 * never fails the job and never blocks the window.
 *
 * The summary is passed on as the kubelet sent it (checked to be within the size limit and valid
 * UTF-8) and parsed once, by processing. A summary that does not parse is reported there with
 * reason `bad_summary`.
 */
import { scrapeTargetsOf, type NodeRecord, type NodeScrape, type ScrapedNode, type ScrapeJob } from '../common/jobs.js';
import { checkSummaryBody, SummaryParseError } from '../common/summary-parser.js';
import { ScrapeError, type FetchedSummary } from './kubelet-client.js';

export interface ScrapeDeps {
  fetchSummary(nodeName: string, url: string): Promise<FetchedSummary>;
  maxResponseBytes: number;
  now(): number;
}

export const SUMMARY_PATH = '/stats/summary';

export async function scrapeNode(job: NodeScrape, deps: ScrapeDeps): Promise<ScrapedNode> {
  const base = { windowStartMs: job.windowStartMs, nodeName: job.nodeName };
  const started = deps.now();
  if (started >= job.deadlineMs) {
    return { ...base, outcome: { status: 'failed', reason: 'too_late', message: `scrape would start ${started - job.deadlineMs} ms after the window deadline`, durationMs: 0 } };
  }
  try {
    const fetched = await deps.fetchSummary(job.nodeName, `${job.kubeletUrl}${SUMMARY_PATH}`);
    try {
      checkSummaryBody(fetched.body, job.nodeName, deps.maxResponseBytes);
    } catch (error) {
      fetched.release();
      throw error;
    }
    return { ...base, outcome: { status: 'ok', bytes: fetched.body.length, durationMs: Math.round(fetched.latencyMs), receivedAtMs: fetched.receivedAtMs }, body: fetched.body, releaseBody: fetched.release };
  } catch (error) {
    const durationMs = deps.now() - started;
    if (error instanceof ScrapeError) return { ...base, outcome: { status: 'failed', reason: error.reason, message: error.message, durationMs } };
    if (error instanceof SummaryParseError) return { ...base, outcome: { status: 'failed', reason: 'bad_summary', message: error.message, durationMs } };
    throw error;
  }
}

/** At most `limit` node scrapes in flight across a scraper's jobs (`--scraper-concurrency`); the rest wait their turn in order. */
export class InFlightLimit {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      // The slot passes straight to the next in line, so `active` never drops below what runs.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

export interface ScrapeJobDeps {
  /** Scrapes and processes one node (nothing thrown for a bad kubelet; a Redis failure throws). */
  scrapeAndProcess(node: NodeScrape): Promise<NodeRecord>;
  /** Which of `nodeNames` already have an outcome recorded for the window. */
  recorded(windowStartMs: number, nodeNames: readonly string[]): Promise<ReadonlySet<string>>;
  limit: InFlightLimit;
}

/** What a scrape job did, as its BullMQ return value (Bull Board shows it). */
export interface ScrapeJobResult {
  ok: number;
  failed: number;
  /** Nodes a retried job found already recorded, so not scraped again. */
  alreadyRecorded: number;
}

/**
 * Runs a scrape job: its nodes at once, within the process's in-flight limit. A job run again (a
 * failed attempt, or its worker died) skips the nodes already recorded for the window, so a
 * retry scrapes only what is missing. A node that throws (Redis failed mid-way) fails the job
 * once every node has settled, so the others are recorded first and BullMQ retries the rest.
 */
export async function runScrapeJob(job: ScrapeJob | NodeScrape, runBefore: boolean, deps: ScrapeJobDeps): Promise<ScrapeJobResult> {
  let targets = scrapeTargetsOf(job);
  const result: ScrapeJobResult = { ok: 0, failed: 0, alreadyRecorded: 0 };
  if (runBefore) {
    const recorded = await deps.recorded(job.windowStartMs, targets.map((t) => t.nodeName));
    targets = targets.filter((t) => !recorded.has(t.nodeName));
    result.alreadyRecorded = recorded.size;
  }
  const settled = await Promise.allSettled(
    targets.map((target) => deps.limit.run(() => deps.scrapeAndProcess({ ...target, windowStartMs: job.windowStartMs, deadlineMs: job.deadlineMs }))),
  );
  for (const one of settled) {
    if (one.status === 'rejected') throw one.reason;
    if (one.value.status === 'ok') result.ok++;
    else result.failed++;
  }
  return result;
}
