/**
 * The Elasticsearch sink: an index template at the first write, daily indices with their family
 * aliases (or a data stream), and bulk writes through `@elastic/elasticsearch` with deterministic
 * ids, `bulkWorkers` requests at a time. Only items that failed with 429 or 5xx are sent again
 * (up to `maxRetries` times within one attempt, then the export job is retried later); items
 * rejected for good (mapping errors, other 4xx) are counted and logged, never retried.
 */
import { readFileSync } from 'node:fs';
import { Client, errors, type ClientOptions } from '@elastic/elasticsearch';
import { redactUrl, type Logger } from '../../common/logger.js';
import { backoffDelayMs, classifyStatus, parseRetryAfterMs, SinkWriteError } from '../retry.js';
import type { Sink, WindowBatch } from '../sink.js';
import type { ElasticsearchSinkConfig } from '../../common/sink-config.js';
import type { SinkCounters } from './influxdb.js';
import type { EventRecord } from '../../common/jobs.js';
import { encodeEsEventDocuments } from '../../eventer/events.js';
import { classifyBulkItems, encodeEsDocuments, familyAliases, indexTemplate, type BulkItemResult, type EsDocument } from './elasticsearch-encode.js';

/** Documents per bulk request. */
const BULK_DOCUMENTS = 1000;

export class ElasticsearchSink implements Sink {
  readonly name: string;
  readonly client: Client;
  private templateReady = false;
  private readonly indices = new Set<string>();

  constructor(
    private readonly config: ElasticsearchSinkConfig,
    private readonly counters: SinkCounters,
    private readonly logger: Logger,
    /** Extra client options (tests pass the mock's Connection). */
    clientOptions: Partial<ClientOptions> = {},
    private readonly retryBaseMs = 500,
  ) {
    this.name = config.name;
    this.client = new Client({
      nodes: config.nodes,
      maxRetries: config.maxRetries,
      requestTimeout: 30_000,
      sniffOnStart: config.sniff,
      ...(config.apiKey ? { auth: { apiKey: config.apiKey } } : config.username ? { auth: { username: config.username, password: config.password ?? '' } } : {}),
      ...(config.caFile ? { tls: { ca: readFileSync(config.caFile, 'utf8') } } : {}),
      ...clientOptions,
    });
  }

  async write(window: WindowBatch): Promise<void> {
    const options = { index: this.config.index, clusterName: this.config.clusterName, dataStream: this.config.dataStream };
    await this.call(() => this.ensureTemplate());
    let batch: EsDocument[] = [];
    const inFlight = new Set<Promise<void>>();
    const all: Promise<void>[] = [];
    const flush = async (): Promise<void> => {
      const docs = batch;
      batch = [];
      const sending = this.bulk(docs).finally(() => inFlight.delete(sending));
      inFlight.add(sending);
      all.push(sending);
      if (inFlight.size >= this.config.bulkWorkers) await Promise.race(inFlight).catch(() => undefined);
    };
    for await (const sets of window.chunks()) {
      for (const doc of encodeEsDocuments(sets, window.summary.windowEndMs, options)) {
        if (!this.config.dataStream && !this.indices.has(doc._index)) await this.call(() => this.ensureIndex(doc._index));
        batch.push(doc);
        if (batch.length >= BULK_DOCUMENTS) await flush();
      }
    }
    if (batch.length > 0) await flush();
    await Promise.all(all);
  }

  async writeEvents(events: readonly EventRecord[]): Promise<void> {
    const options = { index: this.config.index, clusterName: this.config.clusterName, dataStream: this.config.dataStream };
    await this.call(() => this.ensureTemplate());
    const docs = encodeEsEventDocuments(events, options);
    for (const doc of docs) if (!this.config.dataStream && !this.indices.has(doc._index)) await this.call(() => this.ensureIndex(doc._index));
    for (let i = 0; i < docs.length; i += BULK_DOCUMENTS) await this.bulk(docs.slice(i, i + BULK_DOCUMENTS));
  }

  /** Runs a request, turning transport errors into SinkWriteError with the retry decision. */
  private async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof SinkWriteError) throw error;
      if (error instanceof errors.ResponseError) {
        const status = error.statusCode ?? 0;
        throw new SinkWriteError(`Elasticsearch: HTTP ${status} ${error.message.slice(0, 200)}`, classifyStatus(status) !== 'reject', parseRetryAfterMs(error.headers?.['retry-after']));
      }
      throw new SinkWriteError(`Elasticsearch unreachable: ${(error as Error).message}`, true);
    }
  }

  /** Before the first write: Heapster's health check (a ping within startupHealthcheckTimeout), then the template. */
  private async ensureTemplate(): Promise<void> {
    if (this.templateReady) return;
    if (this.config.healthCheck) {
      const alive = await this.client.ping({}, { requestTimeout: Math.max(1, this.config.startupHealthcheckTimeoutSeconds) * 1000 });
      if (!alive) throw new SinkWriteError(`Elasticsearch at ${this.config.nodes.map(redactUrl).join(', ')} failed its health check`, true);
    }
    const options = { index: this.config.index, clusterName: this.config.clusterName, dataStream: this.config.dataStream };
    await this.client.indices.putIndexTemplate({ name: this.config.index, ...indexTemplate(options) } as Parameters<Client['indices']['putIndexTemplate']>[0]);
    this.templateReady = true;
  }

  private async ensureIndex(index: string): Promise<void> {
    try {
      await this.client.indices.create({ index, aliases: familyAliases(this.config.index, index) });
    } catch (error) {
      if (!(error instanceof errors.ResponseError && /resource_already_exists/.test(error.message))) throw error;
    }
    this.indices.add(index);
  }

  private async bulk(docs: EsDocument[]): Promise<void> {
    let pending = docs;
    for (let attempt = 1; ; attempt++) {
      const action = this.config.dataStream ? 'create' : 'index';
      const operations = pending.flatMap((d) => [{ [action]: { _index: d._index, _id: d._id } }, d.body]);
      const response = await this.call(() => this.client.bulk({ operations, ...(this.config.pipeline ? { pipeline: this.config.pipeline } : {}) }));
      const items = response.items.map((item) => Object.values(item)[0] as BulkItemResult);
      const { ok, retry, rejected } = classifyBulkItems(items);
      await this.counters.add('documents_written', ok.length);
      if (rejected.length > 0) {
        await this.counters.add('documents_rejected', rejected.length);
        this.logger.warn('elasticsearch rejected documents for good', { sink: this.name, count: rejected.length, first: rejected[0]!.reason, id: pending[rejected[0]!.index]!._id });
      }
      if (retry.length === 0) return;
      pending = retry.map((i) => pending[i]!);
      if (attempt > this.config.maxRetries) throw new SinkWriteError(`Elasticsearch: ${pending.length} documents still throttled or failing after ${attempt} bulk attempts`, true);
      await new Promise((r) => setTimeout(r, backoffDelayMs(attempt, this.retryBaseMs, 10_000)));
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
