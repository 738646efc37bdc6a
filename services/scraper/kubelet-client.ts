/**
 * Fetches `/stats/summary` from kubelets with undici: one keep-alive Agent for all nodes, a
 * per-request timeout (headers and body), a response size cap enforced while streaming, TLS
 * verified against a CA unless `insecure`, and an optional bearer token (never logged).
 *
 * Every failure becomes a ScrapeError with a short machine-readable reason, so a failed node is
 * reported for its window as `timeout`, `refused`, `unauthorized`, ... and never blocks others.
 */
import { createSecureContext } from 'node:tls';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';

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
  /** Sent as `Authorization: Bearer`; a function is asked at every request (a token file re-read as it rotates). */
  bearerToken?: string | (() => string);
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
 * peak RSS did not fall with it (V8's heap takes the room in the burst; docs/benchmarks.md).
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

  /** False when kubelets' certificates are not verified (`insecure`). */
  get verifiesTls(): boolean {
    return !this.options.insecure;
  }

  /**
   * GET `url` (a kubelet's `/stats/summary`) into one of `bodyBuffers`. One deadline
   * (`timeoutMs`) covers the connection, the headers and the body; a body past
   * `maxResponseBytes` is cut off as it streams.
   */
  fetchSummary(nodeName: string, url: string): Promise<FetchedSummary> {
    const target = new URL(url);
    return new Promise((resolve, reject) => {
      const response = new SummaryResponse(nodeName, this.options.maxResponseBytes, this.bodyBuffers, resolve, reject);
      const headers: Record<string, string> = { accept: 'application/json' };
      const { bearerToken } = this.options;
      const token = typeof bearerToken === 'function' ? bearerToken() : bearerToken;
      if (token) headers.authorization = `Bearer ${token}`;
      response.startDeadline(this.options.timeoutMs);
      this.agent.dispatch({ origin: target.origin, path: `${target.pathname}${target.search}`, method: 'GET', headers }, response);
    });
  }

  /** Closes every connection; a second call does nothing (undici's Agent throws on one). */
  async close(): Promise<void> {
    if (!this.agent.closed) await this.agent.close();
  }
}

/** A non-200 response's body is quoted in the error up to this many characters. */
const ERROR_TEXT_CHARS = 200;

/**
 * One summary request, as undici's dispatch handler: the body is copied straight from the socket's
 * chunks into a reused buffer. Through `request()` each chunk went through a Readable stream and an
 * async iterator as well; against the simulator's kubelets a fetch over a kept connection cost
 * ~0.47 ms of the scraper's CPU that way and ~0.35 ms this way (medians of 14 alternating rounds of
 * 200 kubelets, 58 KiB each; throwaway).
 *
 * The promise settles once: with the body (`onResponseEnd`), or with a ScrapeError. A buffer taken
 * is handed back on every failure.
 */
class SummaryResponse implements Dispatcher.DispatchHandler {
  private readonly startedMs = performance.now();
  private controller: Dispatcher.DispatchController | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private timedOut = false;
  private settled = false;
  private statusCode = 0;
  /** The first characters of a non-200 response's body. */
  private errorText = '';
  private buffer: Buffer | undefined;
  private size = 0;

  constructor(
    private readonly nodeName: string,
    private readonly maxResponseBytes: number,
    private readonly buffers: BodyBuffers,
    private readonly resolve: (fetched: FetchedSummary) => void,
    private readonly reject: (error: ScrapeError) => void,
  ) {}

  /** Past `timeoutMs` the request is aborted (or, not yet on a connection, failed at once and aborted when it gets one). */
  startDeadline(timeoutMs: number): void {
    this.deadline = setTimeout(() => {
      this.timedOut = true;
      const error = new ScrapeError(this.nodeName, 'timeout', `no complete response within ${timeoutMs} ms`);
      if (this.controller) this.controller.abort(error);
      else this.fail(error);
    }, timeoutMs);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new ScrapeError(this.nodeName, 'timeout', 'aborted after the deadline'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.statusCode = statusCode;
    if (statusCode !== 200) return;
    const declared = Number(headers['content-length'] ?? NaN);
    if (declared > this.maxResponseBytes) {
      controller.abort(new ScrapeError(this.nodeName, 'too_large', `response of ${declared} bytes exceeds the ${this.maxResponseBytes}-byte limit`));
      return;
    }
    this.buffer = this.buffers.take(Number.isFinite(declared) ? declared : INITIAL_BODY_BYTES);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.statusCode !== 200) {
      if (this.errorText.length < ERROR_TEXT_CHARS) this.errorText += chunk.toString('utf8', 0, Math.min(chunk.length, ERROR_TEXT_CHARS));
      return;
    }
    let buffer = this.buffer!;
    const size = this.size;
    if (size + chunk.length > this.maxResponseBytes) {
      controller.abort(new ScrapeError(this.nodeName, 'too_large', `response exceeds the ${this.maxResponseBytes}-byte limit`));
      return;
    }
    if (size + chunk.length > buffer.length) {
      const larger = this.buffers.take(Math.min(this.maxResponseBytes, Math.max(2 * buffer.length, size + chunk.length)));
      buffer.copy(larger, 0, 0, size);
      this.buffers.give(buffer);
      this.buffer = buffer = larger;
    }
    chunk.copy(buffer, size);
    this.size = size + chunk.length;
  }

  onResponseEnd(): void {
    if (this.statusCode !== 200) {
      const reason: ScrapeFailureReason = this.statusCode === 401 ? 'unauthorized' : this.statusCode === 403 ? 'forbidden' : 'http_error';
      this.fail(new ScrapeError(this.nodeName, reason, `HTTP ${this.statusCode}: ${this.errorText.slice(0, ERROR_TEXT_CHARS).trim()}`));
      return;
    }
    if (this.settled) return this.giveBack();
    this.settle();
    let owned = this.buffer;
    this.buffer = undefined;
    // Once only: a buffer given back twice would be read into by two fetches at once.
    const release = (): void => {
      if (owned !== undefined) this.buffers.give(owned);
      owned = undefined;
    };
    this.resolve({ body: owned!.subarray(0, this.size), receivedAtMs: Date.now(), latencyMs: performance.now() - this.startedMs, release });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(classify(this.nodeName, error, this.timedOut));
  }

  private fail(error: ScrapeError): void {
    this.giveBack();
    if (this.settled) return;
    this.settle();
    this.reject(error);
  }

  private giveBack(): void {
    if (this.buffer !== undefined) this.buffers.give(this.buffer);
    this.buffer = undefined;
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.deadline);
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
