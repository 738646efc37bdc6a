/**
 * Retry classification of a sink response (pure), as Vector's sinks do it: throttling (429),
 * server errors (5xx), timeouts and connection failures are retried, honouring `Retry-After`;
 * a request the server rejects for good (other 4xx) is not retried.
 */
export class SinkWriteError extends Error {
  constructor(
    message: string,
    /** Retry later (the export job fails and BullMQ backs off); false: retrying cannot help. */
    readonly retryable: boolean,
    /** From `Retry-After`, when the server sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SinkWriteError';
  }
}

/** `Retry-After` (seconds or an HTTP date) in ms from `nowMs`; undefined when absent or unreadable. */
export function parseRetryAfterMs(header: string | string[] | undefined | null, nowMs = Date.now()): number | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  if (!text) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

export type ResponseClass = 'ok' | 'retry' | 'reject';

export function classifyStatus(statusCode: number): ResponseClass {
  if (statusCode >= 200 && statusCode < 300) return 'ok';
  if (statusCode === 429 || statusCode === 408 || statusCode >= 500) return 'retry';
  // 401/403 are configuration problems: retried too, so fixing credentials lets the backlog through.
  if (statusCode === 401 || statusCode === 403) return 'retry';
  return 'reject';
}

/**
 * Delay before retry `attempt` (1-based): exponential from `baseMs`, capped at `maxMs`, with full
 * jitter; a server's Retry-After wins when it is longer.
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  const delay = Math.round(ceiling / 2 + (random() * ceiling) / 2);
  return retryAfterMs !== undefined ? Math.max(delay, retryAfterMs) : delay;
}
