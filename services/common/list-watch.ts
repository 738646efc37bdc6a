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
 * seen; `410 Gone` (that version expired) lists again.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from './logger.js';

export const LIST_PAGE_SIZE = 500;

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

/**
 * One watch of `path` from `resourceVersion`, until the server ends it (resolves) or it fails
 * (rejects; `WatchGoneError` on 410). `onAbort` receives the controller that ends it early.
 */
export function watchOnce<T extends ApiObject>(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | boolean | undefined>,
  onEvent: (type: WatchEventType, object: T) => void,
  onAbort: (controller: AbortController) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let gone = false;
    let aborted = false;
    let controller: AbortController | undefined;
    new Watch(kc)
      .watch(
        path,
        { ...query, allowWatchBookmarks: true },
        (type: string, object: T & { code?: number }) => {
          if (type === 'ERROR') {
            if (object.code === 410) gone = true;
            aborted = true;
            controller?.abort();
            return;
          }
          onEvent(type as WatchEventType, object);
        },
        (error: unknown) => {
          const status = (error as { statusCode?: number } | null)?.statusCode;
          if (gone || status === 410) reject(new WatchGoneError());
          else if (error && !aborted && (error as Error).name !== 'AbortError') reject(error instanceof Error ? error : new Error(String(error)));
          else resolve();
        },
      )
      .then((c: AbortController) => {
        controller = c;
        onAbort(c);
      }, reject);
  });
}

/** One page of a list: only `items` and the list's metadata are read. */
export interface ListPage<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** How long one list page may take (headers and body) before the list is retried. */
const LIST_PAGE_TIMEOUT_MS = 60_000;

/**
 * One page of `path` (`limit` LIST_PAGE_SIZE, from `continueToken`) as the API server's JSON, with
 * the kubeconfig's TLS and credentials. Not client-node's typed list calls: they build a typed
 * copy of every object of the page, which doubled the garbage of a list and raised the
 * scheduler's peak RSS with it (the peak is the first list of every pod).
 */
export async function listPage<T>(kc: KubeConfig, path: string, query: Record<string, string | undefined>, continueToken: string | undefined): Promise<ListPage<T>> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  for (const [name, value] of Object.entries({ ...query, limit: String(LIST_PAGE_SIZE), continue: continueToken })) if (value) url.searchParams.set(name, value);
  const options: RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
  await kc.applyToHTTPSOptions(options);
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const sent = (url.protocol === 'http:' ? httpRequest : httpsRequest)(url, options, resolve);
    sent.setTimeout(LIST_PAGE_TIMEOUT_MS, () => sent.destroy(new Error(`list ${path} timed out after ${LIST_PAGE_TIMEOUT_MS} ms`)));
    sent.on('error', reject).end();
  });
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (response.statusCode !== 200) {
    let message = text.slice(0, 200);
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // not a Status: the text as it came
    }
    throw Object.assign(new Error(`list ${path}: HTTP ${response.statusCode}: ${message}`), { statusCode: response.statusCode });
  }
  return JSON.parse(text) as ListPage<T>;
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
    private readonly kc: KubeConfig,
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
        await watchOnce<T>(this.kc, this.path, { ...this.watchQuery, resourceVersion: this.resourceVersion }, (type, object) => this.apply(type, object), (c) => (this.controller = c));
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
