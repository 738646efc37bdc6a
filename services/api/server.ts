/**
 * The API's HTTP server: routing to the Model API and the Metrics API, authentication, health.
 * Bull Board is at /queues. Authentication (a bearer token or basic auth, from files) is required
 * for everything but health whenever the server binds
 * a non-loopback address; `startApiServer` refuses to start otherwise. Health endpoints carry no
 * data and need no credentials (for kubelet probes).
 * /healthz, /livez and /readyz as health.ts defines them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express from 'express';
import type { Redis } from 'ioredis';
import { authorized, isLoopback, type HttpAuth } from '../common/http.js';
import { checkHealth, HEALTH_PATHS, type HealthPath } from '../common/health.js';
import type { RedisKeys } from '../common/keys.js';
import type { Logger } from '../common/logger.js';
import type { SelfMetrics } from '../common/self-metrics.js';
import type { MetricsApi } from './metrics-api.js';
import type { ModelApi } from './model-api.js';
import type { StoreReader } from './store.js';

export interface ApiServerOptions {
  host: string;
  port: number;
  auth: HttpAuth;
  /** Heapster's --tls_cert/--tls_key/--tls_client_ca/--allowed_users (PEM contents). */
  tls?: { certPem: string; keyPem: string; clientCaPem?: string; allowedUsers: readonly string[] };
}

/**
 * A client certificate verified against --tls_client_ca authenticates the request when its common
 * name is in --allowed_users (or any, when that list is empty): how the kube-apiserver's
 * aggregation layer (front-proxy client) reaches a metrics API.
 */
export function certificateUser(request: IncomingMessage, allowedUsers: readonly string[]): boolean {
  const socket = request.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return false;
  const commonName = socket.getPeerCertificate()?.subject?.CN;
  const name = Array.isArray(commonName) ? commonName[0] : commonName;
  return name !== undefined && (allowedUsers.length === 0 || allowedUsers.includes(name));
}

/** Where Bull Board is served. */
export const BOARD_PATH = '/queues';

/** Bull Board over every Podometer queue: job details, failed jobs, retry (behind the API's authentication). */
function bullBoard(queues: readonly Queue[]): express.Express {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({ queues: queues.map((queue) => new BullMQAdapter(queue)), serverAdapter, options: { uiConfig: { boardTitle: 'Podometer' } } });
  const app = express();
  app.use(BOARD_PATH, serverAdapter.getRouter());
  return app;
}

export async function startApiServer(
  options: ApiServerOptions,
  parts: { model: ModelApi; metrics: MetricsApi; store: StoreReader; redis: Redis; keys: RedisKeys; queues: readonly Queue[]; selfMetrics: SelfMetrics },
  logger: Logger,
): Promise<Server> {
  const board = bullBoard(parts.queues);
  const hasAuth = options.auth.bearerTokens.length > 0 || options.auth.basicCredentials.length > 0 || options.tls?.clientCaPem !== undefined;
  if (!isLoopback(options.host) && !hasAuth) {
    throw new Error(`refusing to serve on ${options.host} without authentication: give --api-token-file or --api-basic-auth-file, or bind 127.0.0.1`);
  }
  const send = (response: ServerResponse, status: number, body: unknown): void => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    response.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json' });
    response.end(text);
  };
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (HEALTH_PATHS.includes(path)) {
      const health = await checkHealth(path as HealthPath, parts.redis, parts.keys);
      return send(response, health.ok ? 200 : 503, health.text);
    }
    const byCertificate = options.tls?.clientCaPem !== undefined && certificateUser(request, options.tls.allowedUsers);
    const secrets = options.auth.bearerTokens.length + options.auth.basicCredentials.length > 0;
    const bySecret = secrets && authorized(request.headers.authorization, options.auth);
    if (hasAuth && !byCertificate && !bySecret) {
      response.setHeader('www-authenticate', 'Bearer, Basic realm="podometer"');
      return send(response, 401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401, message: 'credentials required' });
    }
    if (path === BOARD_PATH || path.startsWith(`${BOARD_PATH}/`)) return void board(request, response);
    if (path === '/metrics') {
      response.writeHead(200, { 'content-type': parts.selfMetrics.registry.contentType });
      return void response.end(await parts.selfMetrics.registry.metrics());
    }
    if (request.method !== 'GET') return send(response, 405, { error: 'only GET' });
    const asTable = /as=Table/.test(request.headers.accept ?? '');
    const answer = (await parts.model.handle(path, url.searchParams)) ?? (await parts.metrics.handle(path, url.searchParams, asTable));
    if (!answer) return send(response, 404, { error: `path ${path} not found` });
    send(response, answer.status, answer.body);
  };
  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    handle(request, response).catch((error: unknown) => {
      logger.error('api request failed', { path: request.url, error: error instanceof Error ? error.message : String(error) });
      if (!response.headersSent) send(response, 500, { error: 'internal error' });
    });
  };
  const tls = options.tls;
  const server: Server = tls
    ? createHttpsServer({ cert: tls.certPem, key: tls.keyPem, ...(tls.clientCaPem ? { ca: tls.clientCaPem, requestCert: true, rejectUnauthorized: false } : {}) }, listener)
    : createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  logger.info('api serving', { tls: tls !== undefined, address: `${options.host}:${(server.address() as { port: number }).port}`, auth: hasAuth });
  return server;
}
