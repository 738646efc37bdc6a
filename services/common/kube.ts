/**
 * How the scheduler and the eventer reach the API server, from Heapster's source options: the
 * pod's service account (`inClusterConfig=true`, the default), a bare API server URL
 * (`inClusterConfig=false`), or a kubeconfig file (`auth=`).
 *
 * Only a kubeconfig file loads client-node, which knows every way a kubeconfig authenticates
 * (exec plugins, auth providers, client certificates). The service account and the bare URL are a
 * URL, a CA and a token, handled here: importing client-node alone costs a process ~73 MiB of RSS,
 * ~38 MiB of it heap that every full garbage collection walks (its generated API), and the
 * scheduler runs all the time.
 */
import { existsSync } from 'node:fs';
import { Agent as HttpsAgent, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { readServiceAccountCa, SERVICE_ACCOUNT_DIR, type KubeSource } from './source.js';
import { TOKEN_REREAD_MS, TokenFile } from './token-file.js';

export interface ApiServerConnection {
  /** The API server's base URL, without a trailing slash. */
  readonly server: string;
  /** Adds the TLS options and credentials of one request to the API server to `options`. */
  prepare(options: RequestOptions): Promise<void>;
}

/** Where a pod finds the API server and its service account; the defaults are Kubernetes's. */
export interface InClusterEnvironment {
  /** From KUBERNETES_SERVICE_HOST and _PORT (config.ts: inClusterApiServerUrl); undefined outside a pod. */
  apiServerUrl?: string;
  serviceAccountDir?: string;
  /** How long a read token is used before the file is read again (the kubelet rotates it). */
  tokenRereadMs?: number;
}

/** An API server reached with an optional CA and an optional token file (the service account's, re-read as it rotates). */
class TokenFileConnection implements ApiServerConnection {
  constructor(
    readonly server: string,
    private readonly caPem: string | undefined,
    private readonly token: TokenFile | undefined,
    private readonly verifyTls: boolean,
  ) {}

  async prepare(options: RequestOptions): Promise<void> {
    if (this.caPem !== undefined) options.ca = this.caPem;
    options.rejectUnauthorized = this.verifyTls;
    const token = this.token?.current();
    if (token) options.headers = { ...options.headers, authorization: `Bearer ${token}` };
  }
}

/** The TLS options of a request that an HTTPS agent's connections are made with. */
const TLS_OPTION_NAMES = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;
type TlsOptions = Pick<RequestOptions, (typeof TLS_OPTION_NAMES)[number]>;

/** client-node reads the CA, certificate and key into new Buffers for every request: compared by content. */
const sameTlsOptions = (a: TlsOptions, b: TlsOptions): boolean =>
  TLS_OPTION_NAMES.every((name) => {
    const x = a[name];
    const y = b[name];
    return x === y || (Buffer.isBuffer(x) && Buffer.isBuffer(y) && x.equals(y));
  });

/**
 * An API server reached through a kubeconfig file, with client-node's credentials (exec plugins,
 * auth providers, client certificates). client-node gives every request an HTTPS agent of its own,
 * without keep-alive: a TLS handshake per list page, on both sides. Its HTTPS requests (no proxy)
 * go through one keep-alive agent instead, made again only when the TLS options it applies
 * change (a rotated client certificate).
 */
class KubeconfigConnection implements ApiServerConnection {
  private kept: { tls: TlsOptions; agent: HttpsAgent } | undefined;

  constructor(
    readonly server: string,
    private readonly kc: KubeConfig,
    private readonly throughProxy: boolean,
  ) {}

  async prepare(options: RequestOptions): Promise<void> {
    await this.kc.applyToHTTPSOptions(options);
    if (this.throughProxy || !this.server.startsWith('https:')) return;
    const tls: TlsOptions = {};
    for (const name of TLS_OPTION_NAMES) if (options[name] !== undefined) Object.assign(tls, { [name]: options[name] });
    if (this.kept === undefined || !sameTlsOptions(this.kept.tls, tls)) {
      // The old agent's idle connections go; its requests in flight (a watch) run to their end.
      if (this.kept) for (const sockets of Object.values(this.kept.agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
      this.kept = { tls, agent: new HttpsAgent({ ...tls, keepAlive: true }) };
    }
    options.agent = this.kept.agent;
  }
}

const withoutTrailingSlash = (url: string): string => url.replace(/\/+$/, '');

/** The connection `source` describes. Throws an Error that says what is missing. */
export async function apiServerConnection(source: KubeSource, inCluster: InClusterEnvironment = {}): Promise<ApiServerConnection> {
  if (source.kubeconfigPath) {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromFile(source.kubeconfigPath);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error(`kubeconfig ${source.kubeconfigPath} has no current cluster`);
    // client-node refuses plain HTTP unless the cluster skips TLS verification, and would say so
    // at every request: say it once, before anything starts.
    if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify && !cluster.proxyUrl) {
      throw new Error(`kubeconfig ${source.kubeconfigPath}: cluster "${cluster.name}" has an http:// server (${cluster.server}); client-node allows plain HTTP only with insecure-skip-tls-verify: true`);
    }
    return new KubeconfigConnection(withoutTrailingSlash(cluster.server), kc, Boolean(cluster.proxyUrl));
  }
  const reread = inCluster.tokenRereadMs ?? TOKEN_REREAD_MS;
  if (!source.inClusterConfig) {
    if (!source.apiServerUrl) throw new Error('the source has no API server URL, and inClusterConfig=false: give one, or auth=<kubeconfig>');
    return new TokenFileConnection(withoutTrailingSlash(source.apiServerUrl), undefined, undefined, !source.insecure);
  }
  const server = source.apiServerUrl ?? inCluster.apiServerUrl;
  if (!server) throw new Error('not in a pod (KUBERNETES_SERVICE_HOST is not set): give the source an API server URL, or auth=<kubeconfig>');
  const dir = inCluster.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const tokenFile = join(dir, 'token');
  if (!existsSync(tokenFile)) throw new Error(`inClusterConfig=true but there is no service account token at ${tokenFile}: run in a pod, or set inClusterConfig=false`);
  return new TokenFileConnection(withoutTrailingSlash(server), readServiceAccountCa(dir), new TokenFile(tokenFile, reread), !source.insecure);
}
