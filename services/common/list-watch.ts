/**
 * Kubernetes list+watch on raw API JSON, keeping no copies of the objects.
 *
 * client-node's informer keeps every object it has seen, deserialized (a pod is ~10 KB of heap):
 * at 30,000 pods the scheduler held ~300 MiB it never read and spent over half its CPU in the
 * garbage collector walking it. Here the caller keeps what it needs (a few fields per object) and
 * the watcher keeps only object keys, to report what a relist no longer has as deleted.
 *
 * Lists are read in pages of `LIST_PAGE_SIZE` (as client-go's reflector does), so one page at a
 * time is in memory; the watch asks for bookmarks and resumes from the newest resourceVersion
 * seen; `410 Gone` (that version expired) lists again. Plain HTTP(S) requests (kube.ts), not
 * client-node's Watch.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ApiServerConnection } from './kube.js';
import type { Logger } from './logger.js';

export const LIST_PAGE_SIZE = 500;

/**
 * The most one list page, or one watch event, may take (bytes). A page of 500 pods is ~1-10 MB;
 * past this a response is cut off with an error that says so (not V8's failure to build a string
 * past ~512 MiB, after the whole response was held), and the list or watch is retried.
 */
export const MAX_API_RESPONSE_BYTES = 256 * 1024 * 1024;
/** An error status's body is quoted up to this many bytes. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** The watch's resourceVersion expired (`410 Gone`, as an HTTP status or an ERROR event): list again. */
export class WatchGoneError extends Error {
  constructor() {
    super('watch expired (410 Gone)');
    this.name = 'WatchGoneError';
  }
}

export interface ApiObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

type Query = Record<string, string | boolean | undefined>;

/**
 * GET `path` with `query` from the API server, with its TLS and credentials. Resolves with the
 * response once its headers are in; `idleTimeoutMs` without a byte from the server ends it with
 * an error. A status other than 200 rejects with the API server's message and `statusCode`.
 */
async function get(api: ApiServerConnection, path: string, query: Query, idleTimeoutMs: number, signal?: AbortSignal): Promise<IncomingMessage> {
  const url = new URL(api.server + path);
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
  const options: RequestOptions = { method: 'GET', headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) };
  await api.prepare(options);
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const sent = (url.protocol === 'http:' ? httpRequest : httpsRequest)(url, options, resolve);
    sent.setTimeout(idleTimeoutMs, () => sent.destroy(new Error(`GET ${path}: no answer from the API server for ${idleTimeoutMs} ms`)));
    sent.on('error', reject).end();
  });
  if (response.statusCode === 200) return response;
  const text = await readText(response, MAX_ERROR_BODY_BYTES, path, true);
  let message = text.slice(0, 200);
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch {
    // not a Status: the text as it came
  }
  throw Object.assign(new Error(`${query.watch ? 'watch' : 'list'} ${path}: HTTP ${response.statusCode}: ${message}`), { statusCode: response.statusCode });
}

/** The response's body as text, at most `maxBytes`: past that, cut off (`truncate`) or an error naming `path`. */
async function readText(response: IncomingMessage, maxBytes: number, path: string, truncate = false): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of response) {
    bytes += (chunk as Buffer).length;
    if (bytes > maxBytes) {
      response.destroy();
      if (truncate) break;
      throw new Error(`GET ${path}: the API server's response exceeds ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The lines of `stream` (split at `\n`, a trailing `\r` dropped), none longer than `maxBytes`: a
 * longer one is an error naming `path`. Split on bytes, so a character cut across chunks is whole.
 */
export async function* readLines(stream: AsyncIterable<Buffer>, maxBytes: number, path: string): AsyncGenerator<string> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const take = (last: Buffer): string => {
    const line = pending.length === 0 ? last : Buffer.concat([...pending, last]);
    pending = [];
    pendingBytes = 0;
    const end = line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length;
    return line.toString('utf8', 0, end);
  };
  for await (const chunk of stream) {
    let from = 0;
    for (let newline = chunk.indexOf(10, from); newline !== -1; newline = chunk.indexOf(10, from)) {
      if (pendingBytes + newline - from > maxBytes) throw new Error(`watch ${path}: an event exceeds ${maxBytes} bytes`);
      yield take(chunk.subarray(from, newline));
      from = newline + 1;
    }
    if (from < chunk.length) {
      pendingBytes += chunk.length - from;
      if (pendingBytes > maxBytes) throw new Error(`watch ${path}: an event exceeds ${maxBytes} bytes`);
      pending.push(chunk.subarray(from));
    }
  }
  if (pendingBytes > 0) yield take(Buffer.alloc(0));
}

/**
 * How long the API server keeps one watch open (s): 5 to 10 minutes, random per watch so that
 * watches started together do not end together (client-go's reflector does the same).
 */
const watchTimeoutSeconds = (): number => 300 + Math.floor(Math.random() * 300);
/** With bookmarks asked for, a silent watch longer than its timeout and this is taken for dead. */
const WATCH_SILENCE_MARGIN_MS = 60_000;

/**
 * One watch of `path` from `resourceVersion`, until the server ends it (resolves) or it fails
 * (rejects; `WatchGoneError` on 410). `onAbort` receives the controller that ends it early. The
 * events are read a line at a time; a line that is not JSON is skipped.
 */
export async function watchOnce<T extends ApiObject>(
  api: ApiServerConnection,
  path: string,
  query: Query,
  onEvent: (type: WatchEventType, object: T) => void,
  onAbort: (controller: AbortController) => void,
): Promise<void> {
  const controller = new AbortController();
  onAbort(controller);
  const timeoutSeconds = watchTimeoutSeconds();
  let response: IncomingMessage | undefined;
  try {
    response = await get(api, path, { ...query, watch: true, allowWatchBookmarks: true, timeoutSeconds: String(timeoutSeconds) }, timeoutSeconds * 1000 + WATCH_SILENCE_MARGIN_MS, controller.signal);
    for await (const line of readLines(response, MAX_API_RESPONSE_BYTES, path)) {
      let event: { type?: string; object?: T & { code?: number; message?: string } };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        continue;
      }
      if (event.type === 'ERROR') {
        if (event.object?.code === 410) throw new WatchGoneError();
        throw new Error(`watch ${path}: ${event.object?.message ?? 'ERROR event'}`);
      }
      if (event.type && event.object) onEvent(event.type as WatchEventType, event.object);
    }
  } catch (error) {
    if (controller.signal.aborted) return;
    if ((error as { statusCode?: number }).statusCode === 410) throw new WatchGoneError();
    throw error;
  } finally {
    // Leaving on an ERROR event stops reading lines but not the response: close its connection.
    response?.destroy();
  }
}

/** One page of a list: only `items` and the list's metadata are read. */
export interface ListPage<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** How long one list page may go without a byte from the API server before the list is retried. */
const LIST_PAGE_TIMEOUT_MS = 60_000;

/**
 * One page of `path` (`limit` LIST_PAGE_SIZE, from `continueToken`) as the API server's JSON. Not
 * client-node's typed list calls: they build a typed copy of every object of the page, which
 * doubled the garbage of a list and raised the scheduler's peak RSS with it (the peak is the
 * first list of every pod).
 */
export async function listPage<T>(api: ApiServerConnection, path: string, query: Record<string, string | undefined>, continueToken: string | undefined, maxBytes = MAX_API_RESPONSE_BYTES): Promise<ListPage<T>> {
  const response = await get(api, path, { ...query, limit: String(LIST_PAGE_SIZE), continue: continueToken }, LIST_PAGE_TIMEOUT_MS);
  const text = await readText(response, maxBytes, path);
  let page: Partial<ListPage<T>> | null;
  try {
    page = JSON.parse(text) as Partial<ListPage<T>> | null;
  } catch (error) {
    throw new Error(`list ${path}: the API server's answer is not JSON (${text.length} characters): ${(error as Error).message}`);
  }
  if (!Array.isArray(page?.items)) throw new Error(`list ${path}: the API server's answer has no items array`);
  return page as ListPage<T>;
}

/** Every page of a list, in order: `readPage` from no continue token, then from each page's. */
export async function* listPages<T>(readPage: (continueToken: string | undefined) => Promise<ListPage<T>>): AsyncGenerator<ListPage<T>> {
  let continueToken: string | undefined;
  do {
    const page = await readPage(continueToken);
    yield page;
    continueToken = page.metadata?.continue || undefined;
  } while (continueToken);
}

export interface ListWatchHandlers<T> {
  upsert(object: T): void;
  remove(namespace: string, name: string): void;
}

const objectKey = (object: ApiObject): string => `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;

/** Keeps `handlers` in step with one resource: list, then watch, relisting on 410 Gone. */
export class ListWatch<T extends ApiObject> {
  private readonly known = new Set<string>();
  private resourceVersion = '';
  private stopped = false;
  private controller: AbortController | undefined;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly api: ApiServerConnection,
    private readonly resource: string,
    private readonly path: string,
    /** Reads one list page (`limit`, `continue`); `listPage` unless a test gives its own. */
    private readonly readPage: (continueToken: string | undefined) => Promise<ListPage<T>>,
    private readonly watchQuery: Record<string, string | undefined>,
    private readonly handlers: ListWatchHandlers<T>,
    private readonly logger: Logger,
    private readonly retryDelayMs = 1000,
  ) {}

  /** Starts the loop; resolves once the first full list is in (retrying until it is, or stopped). */
  start(): Promise<void> {
    return new Promise<void>((listed) => {
      this.loop = this.run(listed);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.controller?.abort();
    await this.loop;
  }

  private async run(listed: () => void): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.resourceVersion) {
          await this.list();
          listed();
        }
        await watchOnce<T>(this.api, this.path, { ...this.watchQuery, resourceVersion: this.resourceVersion }, (type, object) => this.apply(type, object), (c) => (this.controller = c));
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof WatchGoneError) {
          this.logger.info('watch expired (410 Gone); listing again', { resource: this.resource });
          this.resourceVersion = '';
          continue;
        }
        this.logger.warn('list or watch failed; retrying', { resource: this.resource, error: error instanceof Error ? error.message : String(error) });
        await new Promise((r) => setTimeout(r, this.retryDelayMs).unref());
      }
    }
  }

  /** Reads every page, then reports what the list no longer has as removed. */
  private async list(): Promise<void> {
    const seen = new Set<string>();
    let version = '';
    for await (const page of listPages(this.readPage)) {
      for (const object of page.items) {
        seen.add(objectKey(object));
        this.handlers.upsert(object);
      }
      version = page.metadata?.resourceVersion ?? version;
    }
    for (const key of this.known) {
      if (seen.has(key)) continue;
      const [namespace, name] = key.split('/') as [string, string];
      this.handlers.remove(namespace, name);
    }
    this.known.clear();
    for (const key of seen) this.known.add(key);
    this.resourceVersion = version;
  }

  private apply(type: WatchEventType, object: T): void {
    const version = object.metadata?.resourceVersion;
    if (type === 'ADDED' || type === 'MODIFIED') {
      this.known.add(objectKey(object));
      this.handlers.upsert(object);
    } else if (type === 'DELETED') {
      this.known.delete(objectKey(object));
      this.handlers.remove(object.metadata?.namespace ?? '', object.metadata?.name ?? '');
    }
    if (version) this.resourceVersion = version;
  }
}
