/**
 * `podometer scraper`: scrape workers; run as many as the cluster needs. Each scrape job fetches
 * a few nodes' summaries and processes each (rates, enrichment, staging; processor/processor.ts) in the
 * same job, so a scraper's CPU goes mostly to processing: scale scrapers by CPU. Scrapers share the
 * scrape queue's shards among them (shards.ts), so each node stays with one scraper.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeScrape, ScrapeJob } from '../common/jobs.js';
import { QUEUE } from '../common/keys.js';
import { COMMON_OPTIONS, mergeOptions, PROCESSING_OPTIONS, SCRAPER_OPTIONS } from '../common/options.js';
import { stalledIntervalMs, startWorker } from '../common/queues.js';
import type { ConfigReader, RoleDefinition, Runtime, Service } from '../common/runtime.js';
import { parseSource, readServiceAccountCa, SERVICE_ACCOUNT_DIR } from '../common/source.js';
import { TOKEN_REREAD_MS, TokenFile } from '../common/token-file.js';
import { nodeProcessingFrom } from '../processor/main.js';
import { processScrape } from '../processor/processor.js';
import { KubeletClient } from './kubelet-client.js';
import { InFlightLimit, runScrapeJob, scrapeNode, type ScrapeJobDeps } from './scrape.js';
import { ShardWorkers } from './shards.js';

export const SCRAPER_ROLE_OPTIONS = mergeOptions(COMMON_OPTIONS, SCRAPER_OPTIONS, PROCESSING_OPTIONS);

const readIf = (path: string): string | undefined => (path && existsSync(path) ? readFileSync(path, 'utf8') : undefined);

/**
 * The kubelet client the flags describe. The CA and the client certificate are read once at start;
 * the token file is read again every `tokenRereadMs`, as it rotates (a projected service-account
 * token expires after an hour where the API server does not extend it).
 */
export function kubeletClientFrom(get: ConfigReader, tokenRereadMs = TOKEN_REREAD_MS): KubeletClient {
  const source = parseSource(get.string('source'));
  const caPem = readIf(get.string('kubelet-ca-file')) ?? (source.inClusterConfig ? readServiceAccountCa() : undefined);
  const tokenFile = get.string('kubelet-token-file') || (source.useServiceAccount ? join(SERVICE_ACCOUNT_DIR, 'token') : '');
  const tokens = tokenFile && existsSync(tokenFile) ? new TokenFile(tokenFile, tokenRereadMs) : undefined;
  const bearerToken = tokens && (() => tokens.current());
  const clientCertPem = readIf(get.string('kubelet-client-certificate'));
  const clientKeyPem = readIf(get.string('kubelet-client-key'));
  return new KubeletClient({
    insecure: source.insecure || get.boolean('kubelet-insecure-tls'),
    timeoutMs: get.number('kubelet-request-timeout'),
    maxResponseBytes: get.number('kubelet-max-response-bytes'),
    // One per scrape in flight: each node's body is parsed before its scrape ends.
    reusedBodyBuffers: get.number('scraper-concurrency'),
    ...(caPem ? { caPem } : {}),
    ...(bearerToken ? { bearerToken } : {}),
    ...(clientCertPem ? { clientCertPem } : {}),
    ...(clientKeyPem ? { clientKeyPem } : {}),
  });
}

export function startScraper(runtime: Runtime, get: ConfigReader): Service & { shards: ShardWorkers } {
  const client = kubeletClientFrom(get);
  if (!client.verifiesTls) runtime.logger.warn('kubelet TLS certificates are not verified (insecure=true or --kubelet-insecure-tls): not for production');
  const maxResponseBytes = get.number('kubelet-max-response-bytes');
  const processing = nodeProcessingFrom(runtime, get);
  const concurrency = get.number('scraper-concurrency');
  const jobDeps: ScrapeJobDeps = {
    limit: new InFlightLimit(concurrency),
    recorded: async (windowStartMs, nodeNames) => {
      const outcomes = await runtime.redis.hmget(runtime.keys.windowOutcomes(windowStartMs), ...nodeNames);
      return new Set(nodeNames.filter((_, i) => outcomes[i] !== null));
    },
    scrapeAndProcess: async (node) => {
      const scraped = await scrapeNode(node, { fetchSummary: (name, url) => client.fetchSummary(name, url), maxResponseBytes, now: Date.now });
      runtime.metrics.scraped(node.nodeName, scraped.outcome);
      if (scraped.outcome.status === 'failed') runtime.logger.warn('scrape failed', { node: node.nodeName, windowStartMs: node.windowStartMs, reason: scraped.outcome.reason, error: scraped.outcome.message });
      // Processing overwrites the node's staging fields and outcome, so a node scraped twice in
      // one window (a retried job) is counted once.
      const record = await processScrape(scraped, processing);
      runtime.metrics.processed(record);
      return record;
    },
  };
  const shards = new ShardWorkers({
    redis: runtime.redis,
    keys: runtime.keys,
    // As often as workers check for stalled jobs: a scraper that dies loses its shards about when its jobs.
    heartbeatMs: stalledIntervalMs(runtime.lockDurationMs),
    expireMs: runtime.lockDurationMs,
    // Jobs in flight; the nodes in flight are held to `concurrency` by jobDeps.limit. As many jobs
    // as nodes, so a job waiting on a hanging kubelet holds up no other job's nodes.
    concurrency,
    logger: runtime.logger,
    startShard: (shard, shardConcurrency) =>
      startWorker<ScrapeJob | NodeScrape>({
        queue: QUEUE.scrape(shard),
        connection: runtime.queueRedis,
        keys: runtime.keys,
        concurrency: shardConcurrency,
        lockDurationMs: runtime.lockDurationMs,
        logger: runtime.logger,
        // BullMQ counts every start of a job (a retry, or a run after its worker died) in attemptsStarted.
        handle: (job, bullJob) => runScrapeJob(job, bullJob.attemptsStarted > 1, jobDeps),
      }),
  });
  shards.start();
  return {
    shards,
    stop: async () => {
      await shards.stop();
      await client.close();
    },
  };
}

export const SCRAPER_ROLE: RoleDefinition = {
  name: 'scraper',
  summary: 'Scrapes kubelets and processes what they return: a few nodes per scrape job.',
  options: SCRAPER_ROLE_OPTIONS,
  start: startScraper,
};
