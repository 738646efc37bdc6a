/**
 * The InfluxDB sink: InfluxDB 1.x `/write` (creating the database and its `default` retention
 * policy first, as Heapster did) or the 2.x API through `@influxdata/influxdb-client` when a
 * token is configured. Batches are bounded in points and bytes and sent `concurrency` at a time.
 * Writes are idempotent (points are keyed by measurement, tags and time).
 */
import { InfluxDB, HttpError, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import { Agent, request } from 'undici';
import { redactUrl, type Logger } from '../../common/logger.js';
import { classifyStatus, parseRetryAfterMs, SinkWriteError } from '../retry.js';
import type { Sink, WindowBatch } from '../sink.js';
import type { InfluxSinkConfig } from '../../common/sink-config.js';
import { batchLines, encodeInfluxLines } from './influxdb-encode.js';
import type { EventRecord } from '../../common/jobs.js';
import { encodeInfluxEventLines } from '../../eventer/events.js';

/** A sink's counters (kept in Redis, hash P:sink:<name>:stats, for self-metrics). */
export interface SinkCounters {
  add(counter: 'points_written' | 'points_rejected' | 'documents_written' | 'documents_rejected', n: number): Promise<void>;
}

/** Writes a batch of lines; throws SinkWriteError. Returns the lines the server rejected for good. */
type LineWriter = (lines: string[]) => Promise<number>;

export class InfluxSink implements Sink {
  readonly name: string;
  private readonly agent: Agent;
  private databaseReady = false;
  private readonly writeLines: LineWriter;
  private v2: InfluxDB | undefined;

  constructor(
    private readonly config: InfluxSinkConfig,
    private readonly counters: SinkCounters,
    private readonly logger: Logger,
    private readonly timeoutMs = 30_000,
  ) {
    this.name = config.name;
    this.agent = new Agent({ connect: { rejectUnauthorized: !config.insecureSsl, timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    this.writeLines = config.token !== undefined ? (lines) => this.writeV2(lines) : (lines) => this.writeV1(lines);
  }

  async write(window: WindowBatch): Promise<void> {
    const timeMs = window.summary.windowEndMs;
    const pending: Promise<void>[] = [];
    const inFlight = new Set<Promise<void>>();
    for await (const sets of window.chunks()) {
      const lines = encodeInfluxLines(sets, timeMs, this.config);
      for (const batch of batchLines(lines, this.config.batchPoints, this.config.batchBytes)) {
        const sending = this.send(batch).finally(() => inFlight.delete(sending));
        inFlight.add(sending);
        pending.push(sending);
        if (inFlight.size >= this.config.concurrency) await Promise.race(inFlight).catch(() => undefined);
      }
    }
    await Promise.all(pending);
  }

  async writeEvents(events: readonly EventRecord[]): Promise<void> {
    const lines = encodeInfluxEventLines(events, this.config);
    for (const batch of batchLines(lines, this.config.batchPoints, this.config.batchBytes)) await this.send(batch);
  }

  private async send(lines: string[]): Promise<void> {
    const rejected = await this.writeLines(lines);
    await this.counters.add('points_written', lines.length - rejected);
    if (rejected > 0) await this.counters.add('points_rejected', rejected);
  }

  private basicAuth(): Record<string, string> {
    return { authorization: `Basic ${Buffer.from(`${this.config.user}:${this.config.password}`).toString('base64')}` };
  }

  private async http(path: string, params: Record<string, string>, body?: string): Promise<{ status: number; text: string; retryAfterMs: number | undefined }> {
    const url = `${this.config.url}${path}?${new URLSearchParams(params).toString()}`;
    try {
      const response = await request(url, { method: 'POST', dispatcher: this.agent, headers: { ...this.basicAuth(), 'content-type': 'text/plain; charset=utf-8' }, ...(body !== undefined ? { body } : {}) });
      const text = await response.body.text();
      return { status: response.statusCode, text, retryAfterMs: parseRetryAfterMs(response.headers['retry-after']) };
    } catch (error) {
      throw new SinkWriteError(`InfluxDB at ${redactUrl(this.config.url)} unreachable: ${(error as Error).message}`, true);
    }
  }

  /** CREATE DATABASE with its `default` retention policy (as Heapster); repeated safely. */
  private async ensureDatabase(): Promise<void> {
    if (this.databaseReady) return;
    const db = `"${this.config.db}"`;
    const duration = this.config.retention === '0' ? 'INF' : this.config.retention;
    for (const q of [`CREATE DATABASE ${db} WITH DURATION ${duration} NAME "default"`, `CREATE RETENTION POLICY "default" ON ${db} DURATION ${duration} REPLICATION 1 DEFAULT`]) {
      const { status, text, retryAfterMs } = await this.http('/query', { q });
      if (classifyStatus(status) === 'ok') continue;
      if (/already exists/.test(text)) continue;
      throw new SinkWriteError(`InfluxDB ${q}: HTTP ${status} ${text.slice(0, 200)}`, classifyStatus(status) === 'retry', retryAfterMs);
    }
    this.databaseReady = true;
    this.logger.info('influxdb database ready', { sink: this.name, db: this.config.db, retention: this.config.retention });
  }

  private async writeV1(lines: string[]): Promise<number> {
    await this.ensureDatabase();
    const { status, text, retryAfterMs } = await this.http('/write', { db: this.config.db, rp: 'default', precision: 'ms' }, lines.join('\n'));
    const outcome = classifyStatus(status);
    if (outcome === 'ok') return 0;
    if (status === 404 && /database not found/.test(text)) {
      this.databaseReady = false;
      throw new SinkWriteError('InfluxDB database not found (dropped?); it is created again on retry', true);
    }
    if (outcome === 'retry') throw new SinkWriteError(`InfluxDB write: HTTP ${status} ${text.slice(0, 200)}`, true, retryAfterMs);
    // 400: a partial write; InfluxDB kept the points it could parse and says how many it dropped.
    const dropped = Number(/dropped=(\d+)/.exec(text)?.[1] ?? lines.length);
    this.logger.warn('influxdb rejected points for good', { sink: this.name, status, dropped, error: text.slice(0, 300) });
    return dropped;
  }

  private writer(): WriteApi {
    // The client logs failed writes itself; Podometer reports them once, through its own logger.
    setLogger({ error: (message) => this.logger.debug(message), warn: (message) => this.logger.debug(message) });
    this.v2 ??= new InfluxDB({ url: this.config.url, token: this.config.token!, timeout: this.timeoutMs, transportOptions: { rejectUnauthorized: !this.config.insecureSsl } });
    return this.v2.getWriteApi(this.config.org, this.config.bucket, 'ms', { maxRetries: 0, batchSize: this.config.batchPoints + 1, flushInterval: 0, maxBufferLines: this.config.batchPoints + 1 });
  }

  private async writeV2(lines: string[]): Promise<number> {
    const api = this.writer();
    try {
      api.writeRecords(lines);
      await api.close();
      return 0;
    } catch (error) {
      if (error instanceof HttpError) {
        const outcome = classifyStatus(error.statusCode);
        if (outcome === 'reject') {
          this.logger.warn('influxdb rejected points for good', { sink: this.name, status: error.statusCode, error: error.body?.slice(0, 300) });
          return lines.length;
        }
        throw new SinkWriteError(`InfluxDB write: HTTP ${error.statusCode} ${error.body?.slice(0, 200) ?? ''}`, true, parseRetryAfterMs(error.headers?.['retry-after'] as string | undefined));
      }
      throw new SinkWriteError(`InfluxDB at ${redactUrl(this.config.url)} unreachable: ${(error as Error).message}`, true);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
