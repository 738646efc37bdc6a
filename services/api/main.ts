/** `podometer api`: Heapster's Model API and metrics.k8s.io from the short-term store; any number of replicas. */
import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { ConfigError, loadRoleConfig, usage, type OptionSpec } from '../common/config.js';
import { COMMON_OPTIONS, mergeOptions, SINK_OPTIONS, WINDOW_OPTIONS } from '../common/options.js';
import { parseSinks } from '../exporter/sink-config.js';
import { STORE_SINK } from '../processor/main.js';
import { openRuntime, runUntilSignal, type ConfigReader, type Runtime, type Service } from '../common/runtime.js';
import { MetricsApi } from './metrics-api.js';
import { ModelApi } from './model-api.js';
import { isLoopback, startApiServer, type ApiAuth } from './server.js';
import { StoreReader } from './store.js';

const existingFile = (path: string): string | undefined => (path === '' || existsSync(path) ? undefined : 'no such file');

export const API_OPTIONS: readonly OptionSpec[] = [
  { name: 'api-address', type: 'string', default: '127.0.0.1:8082', valueName: 'HOST:PORT', description: 'Where the API listens (Heapster: port 8082). A non-loopback address needs authentication.', check: (v) => (/^(\[[0-9a-fA-F:]+\]|[^:]+):\d+$/.test(v) ? undefined : 'must be HOST:PORT') },
  { name: 'api-token-file', type: 'string', default: '', valueName: 'FILE', description: 'Bearer tokens accepted, one per line.', check: existingFile },
  { name: 'api-basic-auth-file', type: 'string', default: '', valueName: 'FILE', description: 'Basic-auth credentials accepted, user:password per line.', check: existingFile },
];

export const API_ROLE_OPTIONS = mergeOptions(COMMON_OPTIONS, API_OPTIONS, WINDOW_OPTIONS, SINK_OPTIONS);

const lines = (path: string): string[] => (path ? readFileSync(path, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')) : []);

export function apiAddress(get: ConfigReader): { host: string; port: number } {
  const text = get.string('api-address');
  const colon = text.lastIndexOf(':');
  return { host: text.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(text.slice(colon + 1)) };
}

export async function startApi(runtime: Runtime, get: ConfigReader): Promise<Service & { server: Server }> {
  const { host, port } = apiAddress(get);
  const auth: ApiAuth = { bearerTokens: lines(get.string('api-token-file')), basicCredentials: lines(get.string('api-basic-auth-file')) };
  if (!isLoopback(host) && auth.bearerTokens.length === 0 && auth.basicCredentials.length === 0) {
    throw new ConfigError([`--api-address=${host}:${port} is not loopback: give --api-token-file or --api-basic-auth-file (or bind 127.0.0.1)`]);
  }
  const store = new StoreReader(runtime.redis, runtime.keys);
  // Bull Board shows every queue: the pipeline's and one export queue per sink.
  for (const sink of [STORE_SINK, ...parseSinks(get.list('sink')).map((s) => s.name)]) runtime.queues.export(sink);
  const server = await startApiServer(
    { host, port, auth, resolutionMs: get.number('metric-resolution') },
    { model: new ModelApi(store), metrics: new MetricsApi(store, runtime.redis, runtime.keys), store, redis: runtime.redis, queues: runtime.queues.all() },
    runtime.logger,
  );
  return {
    server,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function runApi(argv: readonly string[]): Promise<number> {
  const config = loadRoleConfig(API_ROLE_OPTIONS, argv, usage('podometer api [flags]', "Serves Heapster's Model API and metrics.k8s.io (kubectl top) from the short-term store.", API_ROLE_OPTIONS));
  if (!config) return 0;
  const runtime = openRuntime(config.get, 'api');
  return runUntilSignal(runtime, [await startApi(runtime, config.get)]);
}
