/**
 * Fetches `/stats/summary` from kubelets with undici: one keep-alive Agent for all nodes, a
 * per-request timeout (headers and body), a response size cap enforced while streaming, TLS
 * verified against a CA unless `insecure`, and an optional bearer token (never logged).
 *
 * Every failure becomes a ScrapeError with a short machine-readable reason, so a failed node is
 * reported for its window as `timeout`, `refused`, `unauthorized`, ... and never blocks others.
 */
import { createSecureContext } from 'node:tls';
import { Agent, errors as undiciErrors, request } from 'undici';

export type ScrapeFailureReason =
  | 'timeout'
  | 'refused'
  | 'unauthorized'
  | 'forbidden'
  | 'http_error'
  | 'too_large'
  | 'tls'
  | 'network'
  | 'truncated';

export class ScrapeError extends Error {
  constructor(
    readonly nodeName: string,
    readonly reason: ScrapeFailureReason,
    detail: string,
  ) {
    super(`scrape of node "${nodeName}" failed (${reason}): ${detail}`);
    this.name = 'ScrapeError';
  }
}

export interface KubeletClientOptions {
  /** PEM CA bundle that signed the kubelets' serving certificates. */
  caPem?: string;
  /** Skip TLS verification (Heapster's `insecure=true`); off by default. */
  insecure?: boolean;
  clientCertPem?: string;
  clientKeyPem?: string;
  bearerToken?: string;
  timeoutMs: number;
  maxResponseBytes: number;
  /** Response buffers kept for reuse (`BodyBuffers`); 0 or none: each body gets a buffer of its own. */
  reusedBodyBuffers?: number;
}

export interface FetchedSummary {
  readonly body: Buffer;
  readonly receivedAtMs: number;
  readonly latencyMs: number;
  /**
   * Hands the body's buffer back for reuse by a later fetch. Call it once the body is no longer
   * read (it is parsed); not calling it is safe, the buffer is then garbage-collected.
   */
  readonly release: () => void;
}

/** What a buffer starts at when the response does not declare its length (chunked, as kubelets answer). */
const INITIAL_BODY_BYTES = 64 * 1024;
/** A reusable buffer larger than this is not kept (one oversized summary must not pin its size). */
const MAX_REUSED_BODY_BYTES = 1024 * 1024;

/**
 * Response buffers handed back once their body is parsed, for the next fetch to read into.
 *
 * A summary read into a buffer of its own (~58 KiB at 30 pods) is held across the node's Redis
 * round trips before it is parsed, so it outlives young-generation collections, and its memory,
 * outside V8's heap, is freed only by a full collection: in a scraper at 1,000 nodes ~55 MB of
 * `external` memory was such dead bodies (prom-client's `nodejs_external_memory_bytes` mid-run).
 * Reused buffers bound it by the scrapes in flight: 8-28 MiB over a run at 1,000 nodes. The scraper's
 * peak RSS did not fall with it (V8's heap takes the room in the burst; README, Benchmarks).
 */
export class BodyBuffers {
  private readonly free: Buffer[] = [];

  /** `kept`: at most this many free buffers are kept (a scraper's scrapes in flight). */
  constructor(private readonly kept: number) {}

  /** A buffer of at least `bytes` (its contents are left over from earlier bodies). */
  take(bytes: number): Buffer {
    const reused = this.free.pop();
    if (reused !== undefined && reused.length >= bytes) return reused;
    return Buffer.allocUnsafeSlow(Math.max(bytes, reused?.length ?? 0, INITIAL_BODY_BYTES));
  }

  give(buffer: Buffer): void {
    if (this.free.length < this.kept && buffer.length <= MAX_REUSED_BODY_BYTES) this.free.push(buffer);
  }

  get freeCount(): number {
    return this.free.length;
  }
}

/** How long an idle connection to a kubelet is kept (unless the kubelet asks for less). */
const KEEP_ALIVE_MS = 10 * 60_000;

export class KubeletClient {
  private readonly agent: Agent;
  readonly bodyBuffers: BodyBuffers;

  constructor(private readonly options: KubeletClientOptions) {
    this.bodyBuffers = new BodyBuffers(options.reusedBodyBuffers ?? 0);
    // One secure context for every connection: given `ca`/`cert`/`key`, each new TLS connection
    // built its own (parsing the PEMs again), ~6% of a scraper's CPU when connections are new.
    const secureContext = createSecureContext({
      ...(options.caPem ? { ca: options.caPem } : {}),
      ...(options.clientCertPem ? { cert: options.clientCertPem } : {}),
      ...(options.clientKeyPem ? { key: options.clientKeyPem } : {}),
    });
    this.agent = new Agent({
      // One connection per kubelet: a node is scraped once a window, and a request that times out
      // closes its connection. With one, the Agent gives each kubelet a Client instead of a Pool,
      // whose 2,048-slot request queue cost ~35 KiB of RSS per kubelet and scraper (~20 KiB of
      // heap): a third of what a kept connection costs (measured against the simulator).
      connections: 1,
      // Connections are kept across windows: a new one costs the scraper ~1.5 ms of CPU and the
      // kubelet about as much (TLS handshake; measured against the simulator), ~5x a scrape over a
      // kept one. With several scrapers a node's job lands on any of them, so each keeps its
      // connections for several windows (a kubelet that closes idle connections sooner wins).
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: KEEP_ALIVE_MS,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: {
        timeout: options.timeoutMs,
        rejectUnauthorized: !options.insecure,
        secureContext,
      },
    });
  }

  async fetchSummary(nodeName: string, url: string): Promise<FetchedSummary> {
    const started = performance.now();
    // One deadline for headers and body. Not AbortSignal.timeout: its timer cannot be cleared, so
    // every request's signal lived (and fired, building a DOMException) for the whole timeout.
    const abort = new AbortController();
    const deadline = setTimeout(() => abort.abort(), this.options.timeoutMs);
    let buffer: Buffer | undefined;
    try {
      const response = await request(url, {
        dispatcher: this.agent,
        method: 'GET',
        signal: abort.signal,
        headers: {
          accept: 'application/json',
          ...(this.options.bearerToken ? { authorization: `Bearer ${this.options.bearerToken}` } : {}),
        },
      });
      if (response.statusCode !== 200) {
        const text = (await response.body.text().catch(() => '')).slice(0, 200);
        const reason: ScrapeFailureReason =
          response.statusCode === 401 ? 'unauthorized' : response.statusCode === 403 ? 'forbidden' : 'http_error';
        throw new ScrapeError(nodeName, reason, `HTTP ${response.statusCode}: ${text.trim()}`);
      }
      const declared = Number(response.headers['content-length'] ?? NaN);
      if (declared > this.options.maxResponseBytes) {
        response.body.destroy();
        throw new ScrapeError(nodeName, 'too_large', `response of ${declared} bytes exceeds the ${this.options.maxResponseBytes}-byte limit`);
      }
      buffer = this.bodyBuffers.take(Number.isFinite(declared) ? declared : INITIAL_BODY_BYTES);
      let size = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        if (size + chunk.length > this.options.maxResponseBytes) {
          response.body.destroy();
          throw new ScrapeError(nodeName, 'too_large', `response exceeds the ${this.options.maxResponseBytes}-byte limit`);
        }
        if (size + chunk.length > buffer.length) {
          const larger = this.bodyBuffers.take(Math.min(this.options.maxResponseBytes, Math.max(2 * buffer.length, size + chunk.length)));
          buffer.copy(larger, 0, 0, size);
          this.bodyBuffers.give(buffer);
          buffer = larger;
        }
        chunk.copy(buffer, size);
        size += chunk.length;
      }
      let owned: Buffer | undefined = buffer;
      buffer = undefined;
      // Once only: a buffer given back twice would be read into by two fetches at once.
      const release = (): void => {
        if (owned !== undefined) this.bodyBuffers.give(owned);
        owned = undefined;
      };
      return { body: owned.subarray(0, size), receivedAtMs: Date.now(), latencyMs: performance.now() - started, release };
    } catch (error) {
      if (buffer !== undefined) this.bodyBuffers.give(buffer);
      throw classify(nodeName, error, abort.signal.aborted);
    } finally {
      clearTimeout(deadline);
    }
  }

  /** Closes every connection; a second call does nothing (undici's Agent throws on one). */
  async close(): Promise<void> {
    if (!this.agent.closed) await this.agent.close();
  }
}

function classify(nodeName: string, error: unknown, timedOut: boolean): ScrapeError {
  if (error instanceof ScrapeError) return error;
  const err = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err.code ?? err.cause?.code ?? '';
  const message = err.message ?? String(error);
  if (timedOut || error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || error instanceof undiciErrors.ConnectTimeoutError || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new ScrapeError(nodeName, 'timeout', message);
  }
  if (code === 'ECONNREFUSED') return new ScrapeError(nodeName, 'refused', message);
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/i.test(code) || /certificate/i.test(message)) {
    return new ScrapeError(nodeName, 'tls', `${code} ${message}`.trim());
  }
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || error instanceof undiciErrors.ResponseContentLengthMismatchError || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return new ScrapeError(nodeName, 'truncated', message);
  }
  return new ScrapeError(nodeName, 'network', `${code} ${message}`.trim());
}
