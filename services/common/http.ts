/**
 * What every HTTP endpoint Podometer serves shares: HOST:PORT parsing, the loopback rule, and
 * authentication (bearer tokens or basic auth from files). Anything bound off loopback must have
 * credentials configured; health endpoints carry no data and are open (for probes).
 */
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { ConfigError } from './config.js';
import { HEALTH_PATHS, type HealthPath } from './health.js';
import type { Logger } from './logger.js';
import type { ConfigReader } from './runtime.js';
import type { SelfMetrics } from './self-metrics.js';

export interface HttpAuth {
  bearerTokens: readonly string[];
  /** `user:password` pairs. */
  basicCredentials: readonly string[];
}

export function parseAddress(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  return { host: text.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(text.slice(colon + 1)) };
}

export const checkAddress = (v: string): string | undefined => (v === '' || /^(\[[0-9a-fA-F:]+\]|[^:]+):\d+$/.test(v) ? undefined : 'must be HOST:PORT');

/** Whether an address is loopback only (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

const lines = (path: string): string[] => (path ? readFileSync(path, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')) : []);

const credentialsOf = (get: ConfigReader): HttpAuth => ({ bearerTokens: lines(get.string('api-token-file')), basicCredentials: lines(get.string('api-basic-auth-file')) });

/** The problem of serving on `host` with the configured credentials: none off loopback. */
export function authProblems(get: ConfigReader, host: string, flag: string): string[] {
  const auth = credentialsOf(get);
  if (isLoopback(host) || auth.bearerTokens.length > 0 || auth.basicCredentials.length > 0) return [];
  return [`${flag}=${host} is not loopback: give --api-token-file or --api-basic-auth-file (or bind 127.0.0.1)`];
}

/** The credentials the flags name; a ConfigError when `host` is off loopback and there are none. */
export function httpAuthFor(get: ConfigReader, host: string, flag: string): HttpAuth {
  const problems = authProblems(get, host, flag);
  if (problems.length > 0) throw new ConfigError(problems);
  return credentialsOf(get);
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export function authorized(header: string | undefined, auth: HttpAuth): boolean {
  if (auth.bearerTokens.length === 0 && auth.basicCredentials.length === 0) return true;
  if (!header) return false;
  const [scheme, value = ''] = header.split(' ', 2);
  if (/^bearer$/i.test(scheme ?? '')) return auth.bearerTokens.some((t) => same(t, value.trim()));
  if (/^basic$/i.test(scheme ?? '')) {
    const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
    return auth.basicCredentials.some((c) => same(c, decoded));
  }
  return false;
}

/** A role's own endpoint: /metrics (authenticated off loopback) and the health checks. */
export async function startMetricsServer(address: { host: string; port: number }, auth: HttpAuth, metrics: SelfMetrics, logger: Logger, health: (path: HealthPath) => Promise<{ ok: boolean; text: string }>): Promise<Server> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (HEALTH_PATHS.includes(path)) {
      return void health(path as HealthPath).then((h) => response.writeHead(h.ok ? 200 : 503, { 'content-type': 'text/plain' }).end(h.text));
    }
    if (path !== '/metrics') return void response.writeHead(404).end();
    if (!authorized(request.headers.authorization, auth)) return void response.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (error: unknown) => {
        logger.warn('metrics collection failed', { error: String(error) });
        response.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => resolve());
  });
  logger.info('metrics serving', { address: `${address.host}:${(server.address() as { port: number }).port}` });
  return server;
}
