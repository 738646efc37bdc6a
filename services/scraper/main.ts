/** `podometer scraper`: scrape workers; run as many as the cluster needs. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScrapeJob } from '../common/jobs.js';
import { JOB_ID, QUEUE } from '../common/keys.js';
import { SERVICE_ACCOUNT_DIR } from '../common/kube.js';
import { COMMON_OPTIONS, mergeOptions, SCRAPER_OPTIONS } from '../common/options.js';
import { startWorker } from '../common/queues.js';
import type { ConfigReader, RoleDefinition, Runtime, Service } from '../common/runtime.js';
import { parseSource } from '../common/source.js';
import { KubeletClient } from './kubelet-client.js';
import { scrapeNode } from './scrape.js';

export const SCRAPER_ROLE_OPTIONS = mergeOptions(COMMON_OPTIONS, SCRAPER_OPTIONS);

/** How long past the window's deadline a scraped response is kept for a processor that is behind. */
const SCRAPED_KEPT_AFTER_DEADLINE_MS = 60_000;

const readIf = (path: string): string | undefined => (path && existsSync(path) ? readFileSync(path, 'utf8') : undefined);

/** The kubelet client the flags describe; files are read once at start. */
export function kubeletClientFrom(get: ConfigReader): KubeletClient {
  const source = parseSource(get.string('source'));
  const caPem = readIf(get.string('kubelet-ca-file')) ?? (source.inClusterConfig ? readIf(join(SERVICE_ACCOUNT_DIR, 'ca.crt')) : undefined);
  const tokenFile = get.string('kubelet-token-file') || (source.useServiceAccount ? join(SERVICE_ACCOUNT_DIR, 'token') : '');
  const bearerToken = readIf(tokenFile)?.trim();
  const clientCertPem = readIf(get.string('kubelet-client-certificate'));
  const clientKeyPem = readIf(get.string('kubelet-client-key'));
  return new KubeletClient({
    insecure: source.insecure || get.boolean('kubelet-insecure-tls'),
    timeoutMs: get.number('kubelet-request-timeout'),
    maxResponseBytes: get.number('kubelet-max-response-bytes'),
    ...(caPem ? { caPem } : {}),
    ...(bearerToken ? { bearerToken } : {}),
    ...(clientCertPem ? { clientCertPem } : {}),
    ...(clientKeyPem ? { clientKeyPem } : {}),
  });
}

export function startScraper(runtime: Runtime, get: ConfigReader): Service {
  const client = kubeletClientFrom(get);
  const maxResponseBytes = get.number('kubelet-max-response-bytes');
  const worker = startWorker<ScrapeJob>({
    queue: QUEUE.scrape,
    connection: runtime.redis,
    keys: runtime.keys,
    concurrency: get.number('scraper-concurrency'),
    lockDurationMs: runtime.lockDurationMs,
    logger: runtime.logger,
    handle: async (job) => {
      const { job: result, body } = await scrapeNode(job, { fetchSummary: (node, url) => client.fetchSummary(node, url), maxResponseBytes, now: Date.now });
      runtime.metrics.scraped(job.nodeName, result.outcome);
      if (result.outcome.status === 'failed') runtime.logger.warn('scrape failed', { node: job.nodeName, windowStartMs: job.windowStartMs, reason: result.outcome.reason, error: result.outcome.message });
      // The response waits for the processor until a while after the deadline (retries included);
      // after that the window is finalized without the node anyway.
      if (body) await runtime.redis.set(runtime.keys.scrapedSummary(job.nodeName, job.windowStartMs), body, 'PX', Math.max(job.deadlineMs - Date.now(), 0) + SCRAPED_KEPT_AFTER_DEADLINE_MS);
      // A duplicate added after a completed one is removed is harmless (processing a node's window
      // again overwrites the same staging fields).
      await runtime.queues.process.add('process', result, { jobId: JOB_ID.process(job.nodeName, job.windowStartMs), removeOnComplete: { age: 60, count: 100 } });
      return result.outcome.status;
    },
  });
  return {
    stop: async () => {
      await worker.close();
      await client.close();
    },
  };
}

export const SCRAPER_ROLE: RoleDefinition = {
  name: 'scraper',
  summary: 'Scrapes kubelets: one /stats/summary per scrape job.',
  options: SCRAPER_ROLE_OPTIONS,
  start: startScraper,
};
