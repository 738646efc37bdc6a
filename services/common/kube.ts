/**
 * A Kubernetes client configuration from Heapster's source options: a kubeconfig file (`auth=`),
 * the in-cluster service account (`inClusterConfig=true`), or a bare API server URL.
 */
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeSource } from './source.js';

/**
 * client-node refuses plain `http://` unless `skipTLSVerify` is set; for an http URL there is no
 * TLS to verify, so that is set for it (the simulator's API server, `kubectl proxy`).
 */
export function kubeConfigFor(source: KubeSource): KubeConfig {
  const skipTLSVerify = source.insecure || (source.apiServerUrl?.startsWith('http:') ?? false);
  const kc = new KubeConfig();
  if (source.kubeconfigPath) {
    kc.loadFromFile(source.kubeconfigPath);
  } else if (source.inClusterConfig && source.apiServerUrl === undefined) {
    kc.loadFromCluster();
  } else if (source.inClusterConfig) {
    kc.loadFromCluster();
    const cluster = kc.getCurrentCluster();
    if (cluster) kc.clusters = [{ ...cluster, server: source.apiServerUrl!, skipTLSVerify }];
  } else {
    kc.loadFromOptions({
      clusters: [{ name: 'source', server: source.apiServerUrl ?? 'https://kubernetes.default.svc', skipTLSVerify }],
      users: [{ name: 'source' }],
      contexts: [{ name: 'source', cluster: 'source', user: 'source' }],
      currentContext: 'source',
    });
  }
  return kc;
}
