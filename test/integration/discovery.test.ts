import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiServerConnection, type ApiServerConnection } from '../../services/common/kube.js';
import { LIST_PAGE_SIZE, listPage, ListWatch, watchOnce, WatchGoneError, type ApiObject, type ListPage } from '../../services/common/list-watch.js';
import { createLogger, type LogFields } from '../../services/common/logger.js';
import { parseSource } from '../../services/common/source.js';
import { ClusterMetadata, startDiscovery, type Discovery } from '../../services/scheduler/discovery.js';
import { Simulator } from '../../simulator/simulator.js';
import { generateServingTls } from '../../simulator/tls.js';

const silent = createLogger('test', 'silent');
const ADDRESSING = { preferredAddressTypes: ['InternalIP'], useNodeStatusPort: true, port: 10250, https: true };

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function post(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return response.json();
}

describe('discovery: list+watch of nodes, pods and namespaces (simulator API server)', () => {
  let sim: Simulator;
  let metadata: ClusterMetadata;
  let discovery: Discovery;
  before(async () => {
    // 750+ pods: the pod list comes in two pages of 500.
    sim = await Simulator.start({ nodes: 3, podsPerNode: 250 });
    metadata = new ClusterMetadata(ADDRESSING);
    discovery = startDiscovery(await apiServerConnection(parseSource(`kubernetes.summary_api:${sim.apiUrl}?inClusterConfig=false`)), metadata, '', silent);
    await discovery.start();
  });
  after(async () => {
    await discovery?.stop();
    await sim?.stop();
  });

  it('lists every page: all nodes, pods and namespaces are known once started', () => {
    assert.deepEqual(metadata.counts, { nodes: 3, pods: sim.cluster.pods.size, namespaces: sim.cluster.namespaces.size });
    assert.ok(sim.cluster.pods.size > 750, 'more pods than one list page holds');
    assert.deepEqual(metadata.targets().map((t) => t.nodeName), sim.cluster.nodes.map((n) => n.name).sort());
  });

  it('follows pods created and deleted, and nodes turning not Ready, through the watch', async () => {
    const podsBefore = sim.cluster.pods.size;
    const created = (await post(`${sim.apiUrl}/simulator/pods`, { node: sim.cluster.nodes[0]!.name })) as { name: string; namespace: string };
    await until('the new pod', () => metadata.counts.pods === podsBefore + 1);
    await post(`${sim.apiUrl}/simulator/pods/delete`, { namespace: created.namespace, pod: created.name });
    await until('the pod deleted', () => metadata.counts.pods === podsBefore);
    await post(`${sim.apiUrl}/simulator/nodes/ready`, { node: sim.cluster.nodes[1]!.name, ready: false });
    await until('the node to leave the targets', () => metadata.targets().length === 2);
    await post(`${sim.apiUrl}/simulator/nodes/ready`, { node: sim.cluster.nodes[1]!.name, ready: true });
    await until('the node back', () => metadata.targets().length === 3);
  });

  it('after its history expired and the watches dropped, lists again and keeps following', async () => {
    await post(`${sim.apiUrl}/simulator/expire-history`, {});
    await post(`${sim.apiUrl}/simulator/drop-watches`, {});
    await until('the watches to come back', () => sim.api.activeWatches === 3);
    const podsBefore = sim.cluster.pods.size;
    const created = (await post(`${sim.apiUrl}/simulator/pods`, { node: sim.cluster.nodes[2]!.name })) as { name: string; namespace: string };
    await until('the new pod', () => metadata.counts.pods === podsBefore + 1);
    await post(`${sim.apiUrl}/simulator/pods/delete`, { namespace: created.namespace, pod: created.name });
    await until('the pod deleted', () => metadata.counts.pods === podsBefore);
  });
});

describe('ListWatch: a relist after 410 Gone reports what disappeared meanwhile', () => {
  let server: Server;
  let watchesServed = 0;
  before(async () => {
    // The first watch answers with a 410 ERROR event and ends; later ones stay open.
    server = createServer((request, response) => {
      if (!request.url?.includes('watch=true')) return void response.writeHead(404).end();
      watchesServed++;
      response.writeHead(200, { 'content-type': 'application/json' });
      if (watchesServed === 1) response.end('{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}}\n');
      else response.write('');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('lists twice, the second list missing pod b: b is removed, a is kept, and the 410 is logged', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const lists: ListPage<ApiObject>[] = [
      { items: [{ metadata: { namespace: 'n', name: 'a' } }, { metadata: { namespace: 'n', name: 'b' } }], metadata: { resourceVersion: '5' } },
      { items: [{ metadata: { namespace: 'n', name: 'a' } }], metadata: { resourceVersion: '9' } },
    ];
    let listCalls = 0;
    const present = new Set<string>();
    const logged: string[] = [];
    const logger = createLogger('test', 'info', (line) => void logged.push(line));
    const watch = new ListWatch<ApiObject>(await apiServerConnection(parseSource(`kubernetes.summary_api:${url}?inClusterConfig=false`)), 'pods', '/api/v1/pods', async () => lists[Math.min(listCalls++, 1)]!, {}, {
      upsert: (o) => present.add(`${o.metadata?.namespace}/${o.metadata?.name}`),
      remove: (namespace, name) => present.delete(`${namespace}/${name}`),
    }, logger);
    await watch.start();
    await until('the relist', () => listCalls === 2 && watchesServed === 2);
    await watch.stop();
    assert.deepEqual([...present], ['n/a']);
    assert.ok(logged.some((line) => line.includes('410 Gone') && (JSON.parse(line) as LogFields).resource === 'pods'), logged.join(''));
  });
});

describe('reaching the API server: a service account\'s CA and token (re-read as it rotates), or a kubeconfig file', () => {
  let server: HttpsServer;
  let url: string;
  let caPem: string;
  let dir: string;
  const seen: { path: string; authorization: string | undefined }[] = [];
  let heldWatchClosed = false;
  before(async () => {
    const tls = await generateServingTls(['127.0.0.1'], ['localhost']);
    caPem = tls.caPem;
    dir = mkdtempSync(join(tmpdir(), 'podometer-sa-'));
    server = createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, (request, response) => {
      seen.push({ path: request.url ?? '', authorization: request.headers.authorization });
      if (request.headers.authorization !== 'Bearer list-token') {
        response.writeHead(403, { 'content-type': 'application/json' }).end('{"kind":"Status","code":403,"message":"pods is forbidden: User \\"someone\\" cannot list resource \\"pods\\""}');
        return;
      }
      const query = new URL(request.url ?? '/', 'https://x').searchParams;
      if (query.get('watch') === 'true' && query.get('resourceVersion') === 'held') {
        // An ERROR event on a response the server keeps open: the client must close it.
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 500, message: 'internal error' } })}\n`);
        request.socket.on('close', () => (heldWatchClosed = true));
        return;
      }
      if (query.get('watch') === 'true') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { namespace: 'n', name: 'c', resourceVersion: '8' } } })}\nnot json\n`);
        response.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old resource version' } })}\n`);
        return;
      }
      const page = query.get('continue') ? 2 : 1;
      const body = page === 1
        ? { kind: 'PodList', metadata: { resourceVersion: '7', continue: 'page-2' }, items: [{ metadata: { namespace: 'n', name: 'a' } }] }
        : { kind: 'PodList', metadata: { resourceVersion: '7' }, items: [{ metadata: { namespace: 'n', name: 'b' } }] };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A pod's service account directory: its token and the cluster's CA. */
  const serviceAccount = (token: string, ca: string): string => {
    const account = mkdtempSync(join(dir, 'sa-'));
    writeFileSync(join(account, 'token'), `${token}\n`);
    writeFileSync(join(account, 'ca.crt'), ca);
    return account;
  };
  const inCluster = (token: string, ca: string, tokenRereadMs?: number): Promise<ApiServerConnection> =>
    apiServerConnection(parseSource('kubernetes.summary_api:'), { apiServerUrl: url, serviceAccountDir: serviceAccount(token, ca), ...(tokenRereadMs !== undefined ? { tokenRereadMs } : {}) });

  it('in a pod: reads every page over TLS verified with the service account\'s CA, sending its token, the page size and the continue token', async () => {
    const api = await inCluster('list-token', caPem);
    const first = await listPage<ApiObject>(api, '/api/v1/pods', { labelSelector: 'app=web' }, undefined);
    const second = await listPage<ApiObject>(api, '/api/v1/pods', { labelSelector: 'app=web' }, first.metadata?.continue);
    assert.deepEqual([...first.items, ...second.items].map((o) => o.metadata?.name), ['a', 'b']);
    assert.equal(second.metadata?.continue, undefined);
    const [one, two] = seen.slice(-2).map((s) => new URL(s.path, url).searchParams);
    assert.equal(one!.get('limit'), String(LIST_PAGE_SIZE));
    assert.equal(one!.get('labelSelector'), 'app=web');
    assert.equal(two!.get('continue'), 'page-2');
    assert.ok(seen.slice(-2).every((s) => s.authorization === 'Bearer list-token'));
  });

  it('reads a list\'s pages over one kept-alive connection, not a TLS handshake per page', async () => {
    const api = await inCluster('list-token', caPem);
    let handshakes = 0;
    const counting = (): void => void handshakes++;
    server.on('secureConnection', counting);
    try {
      for (let page = 0; page < 3; page++) await listPage<ApiObject>(api, '/api/v1/pods', {}, page === 0 ? undefined : 'page-2');
    } finally {
      server.off('secureConnection', counting);
    }
    // An earlier test's connection may still be kept: at most one new one.
    assert.ok(handshakes <= 1, `${handshakes} TLS connections for 3 pages`);
  });

  it('names the HTTP status and the API server\'s message when refused, and refuses a server its CA did not sign', async () => {
    await assert.rejects(listPage(await inCluster('wrong', caPem), '/api/v1/pods', {}, undefined), (error: Error & { statusCode?: number }) => {
      assert.equal(error.statusCode, 403);
      assert.match(error.message, /list \/api\/v1\/pods: HTTP 403: pods is forbidden/);
      return true;
    });
    const other = await generateServingTls(['127.0.0.1'], ['localhost']);
    const requestsBefore = seen.length;
    await assert.rejects(listPage(await inCluster('list-token', other.caPem), '/api/v1/pods', {}, undefined), /certificate/);
    assert.equal(seen.length, requestsBefore);
  });

  it('a rotated service account token is sent once the old one is due to be read again', async () => {
    const account = serviceAccount('wrong', caPem);
    const api = await apiServerConnection(parseSource('kubernetes.summary_api:'), { apiServerUrl: url, serviceAccountDir: account, tokenRereadMs: 0 });
    await assert.rejects(listPage(api, '/api/v1/pods', {}, undefined), /HTTP 403/);
    writeFileSync(join(account, 'token'), 'list-token');
    assert.equal((await listPage<ApiObject>(api, '/api/v1/pods', {}, undefined)).items.length, 1);
  });

  it('a watch hands on each event, skips a line that is not JSON, and ends in WatchGoneError on a 410 ERROR event', async () => {
    const api = await inCluster('list-token', caPem);
    const events: string[] = [];
    await assert.rejects(watchOnce<ApiObject>(api, '/api/v1/pods', { resourceVersion: '7' }, (type, o) => events.push(`${type} ${o.metadata?.name}`), () => undefined), WatchGoneError);
    assert.deepEqual(events, ['ADDED c']);
    const asked = new URL(seen[seen.length - 1]!.path, url).searchParams;
    assert.deepEqual([asked.get('watch'), asked.get('resourceVersion'), asked.get('allowWatchBookmarks')], ['true', '7', 'true']);
    assert.ok(Number(asked.get('timeoutSeconds')) >= 300, 'the server ends the watch after minutes, and it starts again');
  });

  it('a watch that ends on an ERROR event closes its connection, though the server keeps it open', async () => {
    const api = await inCluster('list-token', caPem);
    await assert.rejects(watchOnce<ApiObject>(api, '/api/v1/pods', { resourceVersion: 'held' }, () => undefined, () => undefined), /watch \/api\/v1\/pods: internal error/);
    const deadline = Date.now() + 5000;
    while (!heldWatchClosed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(heldWatchClosed, 'the watch connection was closed');
  });

  /** A kubeconfig file for the test server: its URL, CA and the token it accepts. */
  const kubeconfigFile = (): string => {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{ name: c, cluster: { server: "${url}/", certificate-authority-data: ${Buffer.from(caPem).toString('base64')} } }]`,
      'users: [{ name: u, user: { token: list-token } }]',
      'contexts: [{ name: x, context: { cluster: c, user: u } }]',
      'current-context: x',
    ].join('\n'));
    return kubeconfig;
  };

  it('a kubeconfig file (auth=) is read with client-node: its server, CA and token', async () => {
    const api = await apiServerConnection(parseSource(`kubernetes.summary_api:?auth=${kubeconfigFile()}`));
    assert.equal(api.server, url);
    assert.equal((await listPage<ApiObject>(api, '/api/v1/pods', {}, undefined)).items[0]?.metadata?.name, 'a');
  });

  it('through a kubeconfig file, a list\'s pages share one kept-alive connection (client-node alone makes a TLS handshake per request)', async () => {
    const api = await apiServerConnection(parseSource(`kubernetes.summary_api:?auth=${kubeconfigFile()}`));
    let handshakes = 0;
    const counting = (): void => void handshakes++;
    server.on('secureConnection', counting);
    try {
      const names: (string | undefined)[] = [];
      for (let page = 0; page < 3; page++) names.push((await listPage<ApiObject>(api, '/api/v1/pods', {}, page === 0 ? undefined : 'page-2')).items[0]?.metadata?.name);
      assert.deepEqual(names, ['a', 'b', 'b']);
    } finally {
      server.off('secureConnection', counting);
    }
    assert.equal(handshakes, 1, `${handshakes} TLS connections for 3 pages`);
  });

  it('through a kubeconfig file, TLS options that change (a CA file rewritten) are used at the next request, not the kept connection', async () => {
    const caFile = join(dir, 'kubeconfig-ca.crt');
    writeFileSync(caFile, caPem);
    const kubeconfig = join(dir, 'kubeconfig-ca-file');
    writeFileSync(kubeconfig, [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{ name: c, cluster: { server: "${url}", certificate-authority: "${caFile}" } }]`,
      'users: [{ name: u, user: { token: list-token } }]',
      'contexts: [{ name: x, context: { cluster: c, user: u } }]',
      'current-context: x',
    ].join('\n'));
    const api = await apiServerConnection(parseSource(`kubernetes.summary_api:?auth=${kubeconfig}`));
    assert.equal((await listPage<ApiObject>(api, '/api/v1/pods', {}, undefined)).items[0]?.metadata?.name, 'a');
    // Another CA, which did not sign the server's certificate: the request must be verified against it.
    writeFileSync(caFile, (await generateServingTls(['127.0.0.1'], ['localhost'])).caPem);
    await assert.rejects(listPage<ApiObject>(api, '/api/v1/pods', {}, undefined), /certificate/);
  });

  it('a kubeconfig file with an http:// server: used when it skips TLS verification, refused at once otherwise', async () => {
    const plain: Server = createServer((request, response) => {
      const items = request.headers.authorization === 'Bearer plain-token' ? [{ metadata: { namespace: 'n', name: 'over-http' } }] : [];
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: '1' }, items }));
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
      const write = (name: string, skipTlsVerify: boolean): string => {
        const file = join(dir, name);
        writeFileSync(file, [
          'apiVersion: v1',
          'kind: Config',
          `clusters: [{ name: plain, cluster: { server: "${plainUrl}", insecure-skip-tls-verify: ${skipTlsVerify} } }]`,
          'users: [{ name: u, user: { token: plain-token } }]',
          'contexts: [{ name: x, context: { cluster: plain, user: u } }]',
          'current-context: x',
        ].join('\n'));
        return file;
      };
      const api = await apiServerConnection(parseSource(`kubernetes.summary_api:?auth=${write('kubeconfig-http', true)}`));
      assert.equal(api.server, plainUrl);
      assert.equal((await listPage<ApiObject>(api, '/api/v1/pods', {}, undefined)).items[0]?.metadata?.name, 'over-http');
      const refused = write('kubeconfig-http-verify', false);
      await assert.rejects(apiServerConnection(parseSource(`kubernetes.summary_api:?auth=${refused}`)), new RegExp(`kubeconfig ${refused}: cluster "plain" has an http:// server \\(${plainUrl}\\); client-node allows plain HTTP only with insecure-skip-tls-verify: true`));
    } finally {
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });

  it('says what is missing when there is no way to the API server', async () => {
    await assert.rejects(apiServerConnection(parseSource('kubernetes.summary_api:'), {}), /not in a pod \(KUBERNETES_SERVICE_HOST is not set\)/);
    await assert.rejects(apiServerConnection(parseSource('kubernetes.summary_api:'), { apiServerUrl: url, serviceAccountDir: join(dir, 'none') }), /no service account token at .*none\/token/);
    await assert.rejects(apiServerConnection(parseSource('kubernetes.summary_api:?inClusterConfig=false'), {}), /no API server URL/);
  });
});
