/**
 * One fake kubelet per node serving `GET /stats/summary` over HTTP or HTTPS, with an optional
 * bearer-token check and faults on demand.
 *
 * Addressing: by default every kubelet listens on 127.0.0.1 with a port of its own, published in
 * the Node's `status.daemonEndpoints.kubeletEndpoint.Port`. With `sharedPort`, every kubelet
 * listens on that one port at an address of its own in 127.10.0.0/16 (Linux routes all of
 * 127.0.0.0/8 to loopback), published as the Node's InternalIP, like a real cluster.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { wholeSecond, type SimNode } from './cluster.js';

export const FAULTS = ['slow', 'hang', 'error500', 'unauthorized', 'malformed', 'truncated', 'oversized', 'refuse'] as const;
export type Fault = (typeof FAULTS)[number];

export interface KubeletFleetOptions {
  /**
   * Serve HTTPS: `certPemByNode` holds each node's own certificate (valid for its address only,
   * as a real kubelet's), `certPem` serves nodes without one.
   */
  tls?: { certPem: string; keyPem: string; certPemByNode?: Record<string, string> };
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  bearerToken?: string;
  /** One port for all kubelets, each on its own 127.10.x.y address; 0 or absent: a port each. */
  sharedPort?: number;
  /**
   * With a port each: listen on every interface and publish this host in the Node objects, so
   * that other machines or containers reach the kubelets (docker-compose). Default: 127.0.0.1 only.
   */
  advertiseAddress?: string;
  /** Delay of the `slow` fault. */
  slowMs: number;
  /** Size of the `oversized` fault's body. */
  oversizedBytes: number;
}

export interface FleetStats {
  summariesServed: number;
  bytesServed: number;
  faultsServed: number;
  unauthorized: number;
  /** Connections accepted (each a TLS handshake when serving HTTPS). */
  connectionsAccepted: number;
}

export const emptyFleetStats = (): FleetStats => ({ summariesServed: 0, bytesServed: 0, faultsServed: 0, unauthorized: 0, connectionsAccepted: 0 });

/** Where a node's kubelet answers, once its address and port are set. */
export const kubeletUrl = (scheme: 'http' | 'https', node: SimNode): string => `${scheme}://${node.address}:${node.port}/stats/summary`;

/** The address a node gets in shared-port mode: 127.10.<hi>.<lo+1>. */
export function nodeLoopbackAddress(index: number): string {
  return `127.10.${Math.floor(index / 254) % 256}.${(index % 254) + 1}`;
}

export class KubeletFleet {
  private readonly servers = new Map<string, Server>();
  private readonly faults = new Map<string, Fault>();
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<ServerResponse>();
  private oversizedBody: Buffer | undefined;
  readonly stats: FleetStats = emptyFleetStats();

  constructor(
    private readonly options: KubeletFleetOptions,
    private readonly bodyFor: (node: SimNode, timeMs: number) => string,
  ) {}

  /** Serve HTTPS with these certificates; call before `start`. */
  serveTls(tls: NonNullable<KubeletFleetOptions['tls']>): void {
    this.options.tls = tls;
  }

  get scheme(): 'http' | 'https' {
    return this.options.tls ? 'https' : 'http';
  }

  /** Starts a kubelet for each node and writes its address and port into the node. */
  async start(nodes: readonly SimNode[]): Promise<void> {
    const batch = 256;
    for (let i = 0; i < nodes.length; i += batch) {
      await Promise.all(nodes.slice(i, i + batch).map((node) => this.startOne(node)));
    }
  }

  private async startOne(node: SimNode): Promise<void> {
    const handler = (request: IncomingMessage, response: ServerResponse) => this.handle(node, request, response);
    const tls = this.options.tls;
    const server = tls
      ? createHttpsServer({ cert: tls.certPemByNode?.[node.name] ?? tls.certPem, key: tls.keyPem }, handler)
      : createHttpServer(handler);
    // Longer than scrapers keep idle connections (10 minutes), so the scraper's setting decides.
    server.keepAliveTimeout = 15 * 60_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      this.stats.connectionsAccepted++;
      socket.on('close', () => this.sockets.delete(socket));
    });
    const shared = this.options.sharedPort ?? 0;
    const advertised = shared > 0 ? undefined : this.options.advertiseAddress;
    const host = shared > 0 ? nodeLoopbackAddress(node.index) : advertised !== undefined ? '0.0.0.0' : '127.0.0.1';
    const port = shared > 0 ? shared : node.port;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        // After listening, an error is a failed accept: report it rather than die on an
        // unhandled 'error'. (At the open-file limit, libuv may instead accept and close a
        // connection without an error: the client sees "other side closed".)
        server.on('error', (error: NodeJS.ErrnoException) => this.reportServeError(error));
        resolve();
      });
    });
    node.address = advertised ?? host;
    node.port = (server.address() as AddressInfo).port;
    this.servers.set(node.name, server);
  }

  private readonly reportedErrors = new Set<string>();

  /** Prints each kind of serving error once (stderr). */
  private reportServeError(error: NodeJS.ErrnoException): void {
    const kind = error.code ?? error.message;
    if (this.reportedErrors.has(kind)) return;
    this.reportedErrors.add(kind);
    console.error(`simulator: kubelet server error: ${error.message} (${this.servers.size} kubelets listen, ${this.sockets.size} connections open)`);
  }

  url(node: SimNode): string {
    return kubeletUrl(this.scheme, node);
  }

  /** Sets or clears (undefined) a node's fault. `refuse` closes its listener until cleared. */
  async setFault(node: SimNode, fault: Fault | undefined): Promise<void> {
    const previous = this.faults.get(node.name);
    if (fault) this.faults.set(node.name, fault);
    else this.faults.delete(node.name);
    if (fault === 'refuse' && previous !== 'refuse') {
      const server = this.servers.get(node.name);
      this.servers.delete(node.name);
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    } else if (previous === 'refuse' && fault !== 'refuse') {
      await this.startOne(node);
    }
    if (previous === 'hang' && fault !== 'hang') this.releaseHung();
  }

  faultOf(nodeName: string): Fault | undefined {
    return this.faults.get(nodeName);
  }

  private releaseHung(): void {
    for (const response of this.hung) response.destroy();
    this.hung.clear();
  }

  private handle(node: SimNode, request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      response.end('ok');
      return;
    }
    if (path !== '/stats/summary' && path !== '/stats/summary/') {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('404 page not found\n');
      return;
    }
    if (this.options.bearerToken !== undefined && request.headers.authorization !== `Bearer ${this.options.bearerToken}`) {
      this.stats.unauthorized++;
      response.writeHead(401, { 'content-type': 'text/plain' });
      response.end('Unauthorized');
      return;
    }
    const fault = this.faults.get(node.name);
    if (fault) {
      this.stats.faultsServed++;
      this.serveFault(node, fault, response);
      return;
    }
    this.serve(node, response);
  }

  private serve(node: SimNode, response: ServerResponse): void {
    // Encoded once here: given the rendered string (a rope of ~1,000 pieces), byteLength flattened
    // it and the socket encoded it again, together ~20% of a kubelet process's CPU.
    const body = Buffer.from(this.bodyFor(node, wholeSecond(Date.now())));
    this.stats.summariesServed++;
    this.stats.bytesServed += body.length;
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    response.end(body);
  }

  private serveFault(node: SimNode, fault: Fault, response: ServerResponse): void {
    switch (fault) {
      case 'slow':
        setTimeout(() => this.serve(node, response), this.options.slowMs);
        return;
      case 'hang':
        // Headers never come; the connection is held until the client gives up or the fault clears.
        this.hung.add(response);
        response.on('close', () => this.hung.delete(response));
        return;
      case 'error500':
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end('Internal Error: failed to get node info: simulated failure');
        return;
      case 'unauthorized':
        response.writeHead(401, { 'content-type': 'text/plain' });
        response.end('Unauthorized');
        return;
      case 'malformed':
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(`{"node":{"nodeName":"${node.name}","cpu":{"usageCoreNanoSeconds":"many"}},"pods":[{]}`);
        return;
      case 'truncated': {
        const body = this.bodyFor(node, wholeSecond(Date.now()));
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        response.write(body.slice(0, Math.floor(body.length / 2)));
        setImmediate(() => response.destroy());
        return;
      }
      case 'oversized': {
        this.oversizedBody ??= Buffer.from(`{"node":{"nodeName":"${node.name}","padding":"${'x'.repeat(this.options.oversizedBytes)}"},"pods":[]}`);
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': this.oversizedBody.length });
        response.end(this.oversizedBody);
        return;
      }
      case 'refuse':
        // The listener is closed while this fault is set; a request in flight is dropped.
        response.destroy();
        return;
    }
  }

  async close(): Promise<void> {
    this.releaseHung();
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([...this.servers.values()].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    this.servers.clear();
  }
}
