/**
 * What every role builds first and closes last: the logger, two Redis connections, the queues.
 * `runUntilSignal` waits for SIGINT/SIGTERM and shuts down in order: workers and loops first
 * (each finishes or releases its job), then the queues, then Redis.
 */
import type { Redis } from 'ioredis';
import { ConfigError, loadRoleConfig, reader, usage, type OptionSpec } from './config.js';
import { redisKeys, type RedisKeys } from './keys.js';
import { createLogger, type Logger, type LogLevel } from './logger.js';
import { openQueues, type PipelineQueues } from './queues.js';
import { connectRedis } from './redis.js';
import { checkHealth, type HealthPath } from './health.js';
import { authProblems, httpAuthFor, parseAddress, startMetricsServer } from './http.js';
import { SelfMetrics } from './self-metrics.js';
import { sinkNames } from './sink-config.js';

export type ConfigReader = ReturnType<typeof reader>;

export interface Runtime {
  /** Podometer's own commands (staging, state, the store). */
  redis: Redis;
  /**
   * The connection the queues and workers use. BullMQ defines its scripts (64 in 6.7) on the
   * client it is given, and ioredis copies every defined script onto each pipeline and MULTI it
   * builds on that client: ~30 us per pipeline against 2-6 us on a client without scripts, twice
   * per node-scrape. So Podometer's own pipelines run on `redis`, which BullMQ never sees.
   */
  queueRedis: Redis;
  keys: RedisKeys;
  queues: PipelineQueues;
  logger: Logger;
  lockDurationMs: number;
  metrics: SelfMetrics;
}

/** Something started that must be stopped at shutdown. */
export interface Service {
  stop(): Promise<void>;
}

export function openRuntime(get: ConfigReader, role: string): Runtime {
  const logger = createLogger(role, get.string('log-level') as LogLevel);
  const keys = redisKeys(get.string('redis-prefix'));
  const redis = connectRedis(get.string('redis-url'), logger, `podometer-${role}`);
  const queueRedis = connectRedis(get.string('redis-url'), logger, `podometer-${role}-queues`);
  const queues = openQueues(queueRedis, keys, logger);
  const metrics = new SelfMetrics({ role, queues, redis, keys, sinks: sinkNames(get.list('sink')) });
  return { redis, queueRedis, keys, queues, logger, lockDurationMs: get.number('job-lock-duration'), metrics };
}

/** Default /metrics ports of the roles that have no API server. */
export const ROLE_METRICS_PORT: Readonly<Record<string, number>> = { scheduler: 9101, scraper: 9102, processor: 9103, exporter: 9104, eventer: 9105 };

const metricsAddress = (get: ConfigReader, role: string): { host: string; port: number } =>
  parseAddress(get.string('metrics-address') || `127.0.0.1:${ROLE_METRICS_PORT[role] ?? 0}`);

/** Serves the role's /metrics and /healthz on --metrics-address (or 127.0.0.1:<the role's port>). */
export async function serveRoleMetrics(runtime: Runtime, get: ConfigReader, role: string): Promise<Service> {
  const address = metricsAddress(get, role);
  const health = (path: HealthPath): ReturnType<typeof checkHealth> => checkHealth(path, runtime.redis, runtime.keys);
  const server = await startMetricsServer(address, httpAuthFor(get, address.host, '--metrics-address'), runtime.metrics, runtime.logger, health);
  return {
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function closeRuntime(runtime: Runtime, services: readonly Service[]): Promise<void> {
  for (const service of services) await service.stop();
  await runtime.queues.close();
  for (const redis of [runtime.queueRedis, runtime.redis]) await redis.quit().catch(() => redis.disconnect());
}

/** Resolves when the process is asked to stop. */
export function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/** How long a clean shutdown may take (an active job finishing, Redis flushing) before the role exits anyway. */
export const SHUTDOWN_GRACE_MS = 15_000;

export async function runUntilSignal(runtime: Runtime, services: readonly Service[]): Promise<number> {
  const signal = await stopSignal();
  runtime.logger.info('stopping', { signal });
  // A second signal cuts the shutdown short.
  const closed = await closeWithinGrace(runtime, services, stopSignal());
  // Reconnecting clients keep the event loop alive after a forced stop: leave now.
  if (!closed) process.exit(1);
  return 0;
}

/**
 * Closes what started (`closeRuntime`), giving up after `SHUTDOWN_GRACE_MS` or when `cutShort`
 * settles first; resolves whether everything closed. A job unfinished when it gives up is not
 * lost: its lock lapses and another worker runs it again.
 */
async function closeWithinGrace(runtime: Runtime, services: readonly Service[], cutShort?: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => {
      runtime.logger.warn('shutdown took too long; exiting', { graceMs: SHUTDOWN_GRACE_MS });
      resolve(false);
    }, SHUTDOWN_GRACE_MS);
  });
  const closing = closeRuntime(runtime, services).then(
    () => true,
    (error: unknown) => {
      runtime.logger.warn('shutdown failed', { error: error instanceof Error ? error.message : String(error) });
      return false;
    },
  );
  try {
    return await Promise.race([closing, late, ...(cutShort ? [cutShort.then(() => false)] : [])]);
  } finally {
    clearTimeout(timer);
  }
}

export interface RoleDefinition {
  name: string;
  summary: string;
  options: readonly OptionSpec[];
  /** Problems only the role can see (beyond each flag's own checks); reported before connecting. */
  check?: (get: ConfigReader) => string[];
  start: (runtime: Runtime, get: ConfigReader) => Service | Service[] | Promise<Service | Service[]>;
  /** The role serves /metrics on an HTTP server of its own (the API); the others get one on --metrics-address. */
  servesMetrics?: boolean;
}

/**
 * A role's whole life: read the flags, report every configuration problem at once (before any
 * connection), connect, start, serve /metrics, and stop cleanly on SIGTERM.
 */
export async function runRole(role: RoleDefinition, argv: readonly string[]): Promise<number> {
  const config = loadRoleConfig(role.options, argv, usage(`podometer ${role.name} [flags]`, role.summary, role.options));
  if (!config) return 0;
  const problems = role.check?.(config.get) ?? [];
  if (!role.servesMetrics) problems.push(...authProblems(config.get, metricsAddress(config.get, role.name).host, '--metrics-address'));
  if (problems.length > 0) throw new ConfigError(problems);
  const runtime = openRuntime(config.get, role.name);
  const services: Service[] = [];
  try {
    const started = await role.start(runtime, config.get);
    services.push(...(Array.isArray(started) ? started : [started]));
    if (!role.servesMetrics) services.push(await serveRoleMetrics(runtime, config.get, role.name));
  } catch (error) {
    // A role that cannot start (its address taken, say) stops what it started and fails, rather
    // than run on half-started, its Redis clients reconnecting forever and nothing served.
    if (!(await closeWithinGrace(runtime, services))) for (const redis of [runtime.queueRedis, runtime.redis]) redis.disconnect();
    throw error;
  }
  return runUntilSignal(runtime, services);
}
