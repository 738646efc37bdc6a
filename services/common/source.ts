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
  const question = rest.indexOf('?');
  const base = question < 0 ? rest : rest.slice(0, question);
  const params = new URLSearchParams(question < 0 ? '' : rest.slice(question + 1));
  const problems: string[] = [];
  for (const key of params.keys()) {
    if (!(SOURCE_OPTIONS as readonly string[]).includes(key)) problems.push(`unknown option "${key}" (known: ${SOURCE_OPTIONS.join(', ')})`);
  }
  const bool = (key: string, fallback: boolean): boolean => {
    const value = params.get(key);
    if (value === null || value === '') return fallback;
    if (/^(true|1)$/i.test(value)) return true;
    if (/^(false|0)$/i.test(value)) return false;
    problems.push(`${key}=${value}: must be true or false`);
    return fallback;
  };
  let apiServerUrl: string | undefined;
  if (base !== '') {
    try {
      const url = new URL(base);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`${base}: the API server URL must be http or https`);
      apiServerUrl = base.replace(/\/+$/, '');
    } catch {
      problems.push(`${base}: not a URL`);
    }
  }
  const portText = params.get('kubeletPort');
  const kubeletPort = portText === null || portText === '' ? 10250 : Number(portText);
  if (!Number.isInteger(kubeletPort) || kubeletPort < 1 || kubeletPort > 65535) problems.push(`kubeletPort=${portText}: must be a port number`);
  const source: KubeSource = {
    inClusterConfig: bool('inClusterConfig', true),
    kubeletPort,
    kubeletHttps: bool('kubeletHttps', true),
    insecure: bool('insecure', false),
    useServiceAccount: bool('useServiceAccount', false),
    ...(apiServerUrl !== undefined ? { apiServerUrl } : {}),
    ...(params.get('auth') ? { kubeconfigPath: params.get('auth')! } : {}),
  };
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
