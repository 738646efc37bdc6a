/** `podometer api`: Heapster's Model API and metrics.k8s.io from the short-term store; any number of replicas. */
import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { ConfigError, type OptionSpec } from '../common/config.js';
import { authProblems, checkAddress, httpAuthFor, parseAddress } from '../common/http.js';
import { COMMON_OPTIONS, mergeOptions, SINK_OPTIONS, WINDOW_OPTIONS } from '../common/options.js';
import { sinkNames } from '../common/sink-config.js';
import type { ConfigReader, RoleDefinition, Runtime, Service } from '../common/runtime.js';
import { MetricsApi } from './metrics-api.js';
import { ModelApi } from './model-api.js';
import { startApiServer } from './server.js';
import { StoreReader } from './store.js';

const existingFile = (path: string): string | undefined => (path === '' || existsSync(path) ? undefined : 'no such file');

export const API_OPTIONS: readonly OptionSpec[] = [
  { name: 'tls_cert', type: 'string', default: '', valueName: 'FILE', description: 'Serve HTTPS with this certificate (PEM), as Heapster.', check: existingFile },
  { name: 'tls_key', type: 'string', default: '', valueName: 'FILE', description: 'Key of --tls_cert.', check: existingFile },
  { name: 'tls_client_ca', type: 'string', default: '', valueName: 'FILE', description: 'Accept client certificates signed by this CA as authentication (the kube-apiserver front proxy).', check: existingFile },
  { name: 'allowed_users', type: 'list', default: [], valueName: 'NAMES', description: 'Common names of client certificates allowed (empty: any verified one).' },
  { name: 'api-address', type: 'string', default: '127.0.0.1:8082', valueName: 'HOST:PORT', description: 'Where the API listens (Heapster: port 8082). A non-loopback address needs authentication.', check: checkAddress },
];

export const API_ROLE_OPTIONS = mergeOptions(COMMON_OPTIONS, API_OPTIONS, WINDOW_OPTIONS, SINK_OPTIONS);

/** TLS flags that must go together, and authentication off loopback (a client CA counts). */
export function apiConfigProblems(get: ConfigReader): string[] {
  const [cert, key, clientCa] = ['tls_cert', 'tls_key', 'tls_client_ca'].map((f) => get.string(f));
  const problems = (cert === '') !== (key === '') || (clientCa !== '' && cert === '') ? ['--tls_cert and --tls_key go together; --tls_client_ca needs them'] : [];
  if (clientCa === '') problems.push(...authProblems(get, parseAddress(get.string('api-address')).host, '--api-address'));
  return problems;
}

export async function startApi(runtime: Runtime, get: ConfigReader): Promise<Service & { server: Server }> {
  const problems = apiConfigProblems(get);
  if (problems.length > 0) throw new ConfigError(problems);
  const { host, port } = parseAddress(get.string('api-address'));
  const [cert, key, clientCa] = ['tls_cert', 'tls_key', 'tls_client_ca'].map((f) => get.string(f));
  const tls = cert ? { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key!, 'utf8'), allowedUsers: get.list('allowed_users'), ...(clientCa ? { clientCaPem: readFileSync(clientCa, 'utf8') } : {}) } : undefined;
  const auth = httpAuthFor(get, tls?.clientCaPem ? '127.0.0.1' : host, '--api-address');
  const store = new StoreReader(runtime.redis, runtime.keys);
  // Bull Board shows every queue: the pipeline's and one export queue per sink.
  for (const sink of sinkNames(get.list('sink'))) runtime.queues.export(sink);
  const server = await startApiServer(
    { host, port, auth, ...(tls ? { tls } : {}) },
    { model: new ModelApi(store), metrics: new MetricsApi(store, runtime.redis, runtime.keys), store, redis: runtime.redis, keys: runtime.keys, queues: runtime.queues.all(), selfMetrics: runtime.metrics },
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

export const API_ROLE: RoleDefinition = {
  name: 'api',
  summary: "Serves Heapster's Model API and metrics.k8s.io (kubectl top) from the short-term store.",
  options: API_ROLE_OPTIONS,
  check: apiConfigProblems,
  start: startApi,
  servesMetrics: true,
};
