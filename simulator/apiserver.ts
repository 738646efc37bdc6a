/**
 * A fake Kubernetes API server on loopback: nodes, pods, namespaces and events with list (limit,
 * continue, label and field selectors) and watch (resourceVersion, streamed JSON lines, bookmarks,
 * timeoutSeconds), discovery documents, and `/simulator/*` control endpoints for tests.
 *
 * Like kube-apiserver's watch cache it keeps the last `historyLimit` changes as snapshots; a watch
 * from an older resourceVersion gets HTTP 200 and one ERROR event carrying Status 410 (Expired),
 * which is what a real API server sends and what informers handle by listing again.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Change, ResourceKind, SimulatedCluster, WatchEventType } from './cluster.js';
import { eventJson, namespaceJson, nodeJson, podJson } from './objects.js';
import { parseFieldSelector, parseLabelSelector } from '../services/common/selectors.js';

interface Snapshot {
  readonly resourceVersion: number;
  readonly kind: ResourceKind;
  readonly type: WatchEventType;
  readonly namespace: string | undefined;
  readonly object: Record<string, unknown>;
  readonly line: string;
}

interface Watcher {
  readonly kind: ResourceKind;
  readonly namespace: string | undefined;
  readonly matches: (object: Record<string, unknown>) => boolean;
  readonly response: ServerResponse;
}

const KIND_NAMES: Record<ResourceKind, string> = { nodes: 'Node', pods: 'Pod', namespaces: 'Namespace', events: 'Event' };
const NAMESPACED: Record<ResourceKind, boolean> = { nodes: false, pods: true, namespaces: false, events: true };

export interface ApiServerOptions {
  historyLimit: number;
  /** Serves everything the control endpoints need (stats, faults, truth); set by the Simulator. */
  control?: (request: IncomingMessage, response: ServerResponse, body: string) => Promise<boolean>;
}

export class FakeApiServer {
  private server: Server | undefined;
  private readonly history: Snapshot[] = [];
  private oldestWatchable: number;
  private readonly watchers = new Set<Watcher>();
  private readonly jsonCache = new WeakMap<object, { resourceVersion: number; object: Record<string, unknown>; json: string }>();
  private readonly unsubscribe: () => void;
  url = '';

  constructor(
    private readonly cluster: SimulatedCluster,
    private readonly options: ApiServerOptions,
  ) {
    this.oldestWatchable = cluster.resourceVersion + 1;
    this.unsubscribe = cluster.onChange((change) => this.onChange(change));
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) sendStatus(response, 500, 'InternalError', String(error));
        else response.destroy();
      });
    });
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, resolve);
    });
    const address = this.server.address() as AddressInfo;
    this.url = `http://${host}:${address.port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    for (const watcher of this.watchers) watcher.response.end();
    this.watchers.clear();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Forgets the watch history: every watch from an older resourceVersion now gets 410 Gone. */
  expireHistory(): void {
    this.history.length = 0;
    this.oldestWatchable = this.cluster.resourceVersion + 1;
  }

  /** Ends every open watch (as an API server restart or a proxy's idle timeout would). */
  dropWatches(): void {
    for (const watcher of this.watchers) watcher.response.end();
  }

  get activeWatches(): number {
    return this.watchers.size;
  }

  private serialize(kind: ResourceKind, object: Change['object']): { object: Record<string, unknown>; json: string } {
    const cached = this.jsonCache.get(object);
    if (cached && cached.resourceVersion === object.resourceVersion) return cached;
    const json = toJson(kind, object);
    const entry = { resourceVersion: object.resourceVersion, object: json, json: JSON.stringify(json) };
    this.jsonCache.set(object, entry);
    return entry;
  }

  private onChange(change: Change): void {
    const { object, json } = this.serialize(change.kind, change.object);
    const snapshot: Snapshot = {
      resourceVersion: change.resourceVersion,
      kind: change.kind,
      type: change.type,
      namespace: change.namespace,
      object,
      line: `{"type":"${change.type}","object":${json}}\n`,
    };
    this.history.push(snapshot);
    if (this.history.length > this.options.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.options.historyLimit);
      this.oldestWatchable = dropped[dropped.length - 1]!.resourceVersion + 1;
    }
    for (const watcher of this.watchers) {
      if (watcher.kind !== snapshot.kind) continue;
      if (watcher.namespace !== undefined && watcher.namespace !== snapshot.namespace) continue;
      if (!watcher.matches(snapshot.object)) continue;
      watcher.response.write(snapshot.line);
    }
  }

  private currentObjects(kind: ResourceKind, namespace: string | undefined): Change['object'][] {
    const all: Change['object'][] =
      kind === 'nodes' ? this.cluster.nodes
        : kind === 'pods' ? [...this.cluster.pods.values()]
          : kind === 'namespaces' ? [...this.cluster.namespaces.values()]
            : [...this.cluster.events.values()];
    if (namespace === undefined) return all;
    return all.filter((o) => (o as { namespace?: string }).namespace === namespace);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path.startsWith('/simulator/')) {
      const body = await readBody(request);
      if (this.options.control && (await this.options.control(request, response, body))) return;
      return sendStatus(response, 404, 'NotFound', `no control endpoint ${path}`);
    }
    if (request.method !== 'GET') return sendStatus(response, 405, 'MethodNotAllowed', `${request.method} is not supported by the simulator`);
    if (path === '/healthz' || path === '/livez' || path === '/readyz') return sendText(response, 200, 'ok');
    if (path === '/version') return sendJson(response, 200, { major: '1', minor: '31', gitVersion: 'v1.31.0-podometer-sim', platform: 'linux/amd64' });
    if (path === '/api') return sendJson(response, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.url.replace('http://', '') }] });
    if (path === '/apis') return sendJson(response, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    if (path === '/api/v1') return sendJson(response, 200, discovery());

    const m = path.match(/^\/api\/v1\/(?:namespaces\/([^/]+)\/)?(nodes|pods|namespaces|events)(?:\/([^/]+))?$/);
    const nsOnly = path.match(/^\/api\/v1\/namespaces\/([^/]+)$/);
    if (nsOnly) return this.getOne(response, 'namespaces', undefined, decodeURIComponent(nsOnly[1]!));
    if (!m) return sendStatus(response, 404, 'NotFound', `the server could not find the requested resource (${path})`);
    const namespace = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
    const kind = m[2] as ResourceKind;
    if (namespace !== undefined && !NAMESPACED[kind]) return sendStatus(response, 404, 'NotFound', `${kind} are not namespaced`);
    if (m[3] !== undefined) return this.getOne(response, kind, namespace, decodeURIComponent(m[3]));

    let matches: (object: Record<string, unknown>) => boolean;
    try {
      const labelSelector = url.searchParams.get('labelSelector');
      const fieldSelector = url.searchParams.get('fieldSelector');
      const byLabel = labelSelector ? parseLabelSelector(labelSelector) : undefined;
      const byField = fieldSelector ? parseFieldSelector(fieldSelector) : undefined;
      matches = (object) =>
        (!byLabel || byLabel(((object.metadata as { labels?: Record<string, string> }).labels) ?? {})) && (!byField || byField(object));
    } catch (error) {
      return sendStatus(response, 400, 'BadRequest', (error as Error).message);
    }
    const watch = url.searchParams.get('watch');
    if (watch === '1' || watch === 'true') return this.watch(request, response, url, kind, namespace, matches);
    return this.list(response, url, kind, namespace, matches);
  }

  private getOne(response: ServerResponse, kind: ResourceKind, namespace: string | undefined, name: string): void {
    const found: Change['object'] | undefined =
      kind === 'nodes' ? this.cluster.nodesByName.get(name)
        : kind === 'namespaces' ? this.cluster.namespaces.get(name)
          : kind === 'pods' ? (namespace === undefined ? undefined : this.cluster.pods.get(`${namespace}/${name}`))
            : this.currentObjects(kind, namespace).find((o) => o.name === name);
    if (!found) return sendStatus(response, 404, 'NotFound', `${kind} "${name}" not found`);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(this.serialize(kind, found).json);
  }

  private list(response: ServerResponse, url: URL, kind: ResourceKind, namespace: string | undefined, matches: (o: Record<string, unknown>) => boolean): void {
    const limit = Number(url.searchParams.get('limit') ?? 0);
    const token = url.searchParams.get('continue');
    let offset = 0;
    let listVersion = this.cluster.resourceVersion;
    if (token) {
      try {
        const decoded = JSON.parse(Buffer.from(token, 'base64url').toString()) as { rv: number; offset: number };
        offset = decoded.offset;
        listVersion = decoded.rv;
      } catch {
        return sendStatus(response, 400, 'BadRequest', 'invalid continue token');
      }
    }
    const items = this.currentObjects(kind, namespace)
      .map((o) => this.serialize(kind, o))
      .filter((entry) => matches(entry.object));
    const page = limit > 0 ? items.slice(offset, offset + limit) : items.slice(offset);
    const remaining = items.length - offset - page.length;
    const metadata: Record<string, unknown> = { resourceVersion: String(listVersion) };
    if (limit > 0 && remaining > 0) {
      metadata.continue = Buffer.from(JSON.stringify({ rv: listVersion, offset: offset + page.length })).toString('base64url');
      metadata.remainingItemCount = remaining;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(`{"kind":"${KIND_NAMES[kind]}List","apiVersion":"v1","metadata":${JSON.stringify(metadata)},"items":[${page.map((e) => e.json).join(',')}]}`);
  }

  private watch(request: IncomingMessage, response: ServerResponse, url: URL, kind: ResourceKind, namespace: string | undefined, matches: (o: Record<string, unknown>) => boolean): void {
    const requested = url.searchParams.get('resourceVersion');
    const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? 300);
    const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true';
    response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    response.flushHeaders();
    const fromVersion = requested === null || requested === '' || requested === '0' ? undefined : Number(requested);
    if (fromVersion !== undefined && (!Number.isFinite(fromVersion) || fromVersion < this.oldestWatchable - 1)) {
      response.end(`${JSON.stringify({
        type: 'ERROR',
        object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${requested} (${this.oldestWatchable - 1})`, reason: 'Expired', code: 410 },
      })}\n`);
      return;
    }
    if (fromVersion === undefined) {
      // "Start at most recent": synthetic ADDED for every current object, then live changes.
      for (const object of this.currentObjects(kind, namespace)) {
        const entry = this.serialize(kind, object);
        if (matches(entry.object)) response.write(`{"type":"ADDED","object":${entry.json}}\n`);
      }
    } else {
      for (const snapshot of this.history) {
        if (snapshot.resourceVersion <= fromVersion || snapshot.kind !== kind) continue;
        if (namespace !== undefined && snapshot.namespace !== namespace) continue;
        if (matches(snapshot.object)) response.write(snapshot.line);
      }
    }
    const watcher: Watcher = { kind, namespace, matches, response };
    this.watchers.add(watcher);
    const bookmarkTimer = bookmarks
      ? setInterval(() => {
          response.write(`{"type":"BOOKMARK","object":{"kind":"${KIND_NAMES[kind]}","apiVersion":"v1","metadata":{"resourceVersion":"${this.cluster.resourceVersion}"}}}\n`);
        }, 10_000)
      : undefined;
    const finish = (): void => {
      clearTimeout(timeout);
      if (bookmarkTimer) clearInterval(bookmarkTimer);
      this.watchers.delete(watcher);
    };
    const timeout = setTimeout(() => {
      finish();
      response.end();
    }, Math.max(1, timeoutSeconds) * 1000);
    request.on('close', finish);
  }
}

function toJson(kind: ResourceKind, object: Change['object']): Record<string, unknown> {
  switch (kind) {
    case 'nodes':
      return nodeJson(object as Parameters<typeof nodeJson>[0]) as Record<string, unknown>;
    case 'pods':
      return podJson(object as Parameters<typeof podJson>[0]) as Record<string, unknown>;
    case 'namespaces':
      return namespaceJson(object as Parameters<typeof namespaceJson>[0]) as Record<string, unknown>;
    case 'events':
      return eventJson(object as Parameters<typeof eventJson>[0]) as Record<string, unknown>;
  }
}

function discovery(): object {
  const verbs = ['get', 'list', 'watch'];
  return {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      { name: 'nodes', singularName: 'node', namespaced: false, kind: 'Node', verbs, shortNames: ['no'] },
      { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs, shortNames: ['po'] },
      { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs, shortNames: ['ns'] },
      { name: 'events', singularName: 'event', namespaced: true, kind: 'Event', verbs, shortNames: ['ev'] },
    ],
  };
}

export function readBody(request: IncomingMessage, maxBytes = 1 << 20): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new Error('request body too large'));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function sendText(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'text/plain' });
  response.end(body);
}

export function sendStatus(response: ServerResponse, code: number, reason: string, message: string): void {
  sendJson(response, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}
