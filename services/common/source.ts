/**
 * Heapster's source flag, `--source=kubernetes.summary_api:<url>?<options>`, and metrics-server's
 * kubelet flags. The URL is the API server (empty: the in-cluster one). Options, as Heapster had them:
 *   inClusterConfig   use the pod's service account and CA to reach the API server (default true)
 *   kubeletPort       kubelet port when not taken from the node status (default 10250)
 *   kubeletHttps      scrape kubelets over HTTPS (default true; Heapster's default was the
 *                     read-only HTTP port 10255, which current clusters disable)
 *   insecure          skip TLS verification of the API server and the kubelets (default false)
 *   auth              a kubeconfig file for the API server
 *   useServiceAccount send the service-account token to kubelets too (default false)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHttpUrl, OptionReader, splitUri } from './uri-options.js';

/** Where a pod's service account (token, ca.crt) is mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The cluster's CA bundle (PEM) as a pod's service account has it in `dir`; undefined outside a pod. */
export function readServiceAccountCa(dir: string = SERVICE_ACCOUNT_DIR): string | undefined {
  const file = join(dir, 'ca.crt');
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

export interface KubeSource {
  /** API server URL; undefined: from the in-cluster environment or the kubeconfig. */
  apiServerUrl?: string;
  inClusterConfig: boolean;
  kubeletPort: number;
  kubeletHttps: boolean;
  insecure: boolean;
  kubeconfigPath?: string;
  useServiceAccount: boolean;
}

const SOURCE_OPTIONS = ['inClusterConfig', 'kubeletPort', 'kubeletHttps', 'insecure', 'auth', 'useServiceAccount'] as const;
const PREFIX = 'kubernetes.summary_api:';

/** Parses a source flag; throws an Error whose message names the bad part. */
export function parseSource(text: string): KubeSource {
  let rest: string;
  if (text.startsWith(PREFIX)) rest = text.slice(PREFIX.length);
  else if (text === 'kubernetes.summary_api' || text === 'kubernetes') rest = '';
  else if (text.startsWith('kubernetes:')) rest = text.slice('kubernetes:'.length);
  else throw new Error(`must start with "${PREFIX}" (the only source kind Podometer has)`);
  const { base, params } = splitUri(rest);
  const read = new OptionReader(params, SOURCE_OPTIONS);
  let apiServerUrl: string | undefined;
  if (base !== '') apiServerUrl = checkHttpUrl(base, read.problems);
  const auth = read.optional('auth');
  const source: KubeSource = {
    inClusterConfig: read.boolean('inClusterConfig', true),
    kubeletPort: read.integer('kubeletPort', 10250, 1, 65535),
    kubeletHttps: read.boolean('kubeletHttps', true),
    insecure: read.boolean('insecure', false),
    useServiceAccount: read.boolean('useServiceAccount', false),
    ...(apiServerUrl !== undefined ? { apiServerUrl } : {}),
    ...(auth !== undefined ? { kubeconfigPath: auth } : {}),
  };
  const problems = read.problems;
  if (problems.length > 0) throw new Error(problems.join('; '));
  return source;
}

/** For config checks: the source's problem, or undefined when it parses. */
export function checkSource(text: string): string | undefined {
  try {
    parseSource(text);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** metrics-server's `--kubelet-preferred-address-types` values. */
export const NODE_ADDRESS_TYPES = ['Hostname', 'InternalDNS', 'InternalIP', 'ExternalDNS', 'ExternalIP'] as const;
