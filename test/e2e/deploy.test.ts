import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import yaml from 'js-yaml';
import { API_ROLE_OPTIONS } from '../../services/api/main.js';
import { envName, type OptionSpec } from '../../services/common/config.js';
import { EVENTER_ROLE_OPTIONS } from '../../services/eventer/main.js';
import { EXPORTER_ROLE_OPTIONS } from '../../services/exporter/main.js';
import { PROCESSOR_ROLE_OPTIONS } from '../../services/processor/main.js';
import { SCHEDULER_ROLE_OPTIONS } from '../../services/scheduler/main.js';
import { SCRAPER_ROLE_OPTIONS } from '../../services/scraper/main.js';
import { SIMULATE_OPTIONS } from '../../simulator/main.js';
import { ROLE_NODE_FLAGS } from '../../services/common/node-flags.js';
import { REDIS_PERSISTENCE_ARGS } from '../../simulator/redis-server.js';
import { REPO_ROOT } from '../helpers.js';

const run = promisify(execFile);
const ROLE_OPTIONS: Record<string, readonly OptionSpec[]> = {
  scheduler: SCHEDULER_ROLE_OPTIONS, scraper: SCRAPER_ROLE_OPTIONS, processor: PROCESSOR_ROLE_OPTIONS,
  exporter: EXPORTER_ROLE_OPTIONS, eventer: EVENTER_ROLE_OPTIONS, api: API_ROLE_OPTIONS, simulate: SIMULATE_OPTIONS,
};
const flagsOf = (role: string): Set<string> => new Set(ROLE_OPTIONS[role]!.flatMap((o) => [o.name, o.name.replace(/_/g, '-')]));
const envOf = (role: string): Set<string> => new Set(ROLE_OPTIONS[role]!.map(envName).filter((e): e is string => e !== undefined));

/**
 * Redis persists as the bench and the tests run it (LocalRedis): append-only, no RDB snapshots,
 * no compression. `--save ""` matters most: Redis's default save rules dump the whole dataset
 * every minute at Podometer's write rate.
 */
function assertPersistenceAsBenchmarked(args: readonly string[], where: string): void {
  const joined = args.map((a) => JSON.stringify(a)).join(' ');
  assert.ok(joined.includes(REDIS_PERSISTENCE_ARGS.map((a) => JSON.stringify(a)).join(' ')), `${where}: runs with ${REDIS_PERSISTENCE_ARGS.join(' ')} (got ${joined})`);
}

/** Flags (`--name` or `--name=value`) in a command line. */
const flagNames = (args: readonly string[]): string[] => args.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]!);

describe('node flags', () => {
  // The bench measures roles started with ROLE_NODE_FLAGS; production must start them the same way.
  it("the image's entry point and bin/podometer.js run as a program pass the roles' V8 flags", async () => {
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'))?.[1];
    assert.ok(entrypoint, 'the Dockerfile has an exec-form ENTRYPOINT');
    assert.deepEqual(JSON.parse(entrypoint) as string[], ['node', ...ROLE_NODE_FLAGS, 'bin/podometer.js']);
    const shebang = readFileSync(join(REPO_ROOT, 'bin', 'podometer.js'), 'utf8').split('\n')[0];
    assert.equal(shebang, `#!/usr/bin/env -S node ${ROLE_NODE_FLAGS.join(' ')}`);
    // The shebang works here (env -S splits it; node accepts the flags).
    const { stdout } = await run(join(REPO_ROOT, 'bin', 'podometer.js'), ['--help']);
    assert.match(stdout, /^Usage: podometer <role>/);
    // The demo runs it as a program too, so it gets them from the shebang.
    const { scripts } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.match(scripts.demo!, /&& \.\/bin\/podometer\.js demo$/);
  });
});

describe('docker-compose.yml', () => {
  it('docker-compose config accepts it', async () => {
    await run('docker-compose', ['-f', join(REPO_ROOT, 'docker-compose.yml'), 'config', '-q'], { cwd: REPO_ROOT });
  });

  it("every Podometer service runs a role the CLI has, with flags and PODOMETER_ variables that role understands", async () => {
    const { stdout } = await run('docker-compose', ['-f', join(REPO_ROOT, 'docker-compose.yml'), '--profile', 'simulator', 'config'], { cwd: REPO_ROOT });
    const compose = yaml.load(stdout) as { services: Record<string, { image?: string; command?: string[]; environment?: Record<string, string> }> };
    const podometer = Object.entries(compose.services).filter(([, s]) => s.image === 'podometer:latest');
    assert.deepEqual(podometer.map(([name]) => name).sort(), ['api', 'eventer', 'exporter', 'processor', 'scheduler', 'scraper', 'simulator']);
    for (const [name, service] of podometer) {
      const [role, ...args] = service.command!;
      assert.ok(ROLE_OPTIONS[role!], `${name}: role ${role} exists`);
      for (const flag of flagNames(args)) assert.ok(flagsOf(role!).has(flag), `${name}: --${flag} is a flag of ${role}`);
      const anyRole = new Set(Object.keys(ROLE_OPTIONS).flatMap((r) => [...envOf(r)]));
      for (const variable of Object.keys(service.environment ?? {}).filter((v) => v.startsWith('PODOMETER_'))) {
        assert.ok(anyRole.has(variable), `${name}: ${variable} is read by some role`);
      }
    }
    assert.equal(compose.services.scraper!.command![0], 'scraper');
    for (const [name, service] of podometer) assert.equal((service as { entrypoint?: unknown }).entrypoint, undefined, `${name} keeps the image's entry point (its node flags)`);
    assertPersistenceAsBenchmarked(compose.services.redis!.command!, 'compose redis');
    assert.equal((compose.services.scraper as { container_name?: string }).container_name, undefined, 'scrapers scale (no fixed container name)');
  });
});

describe('deploy/kubernetes', () => {
  const load = async (): Promise<Record<string, unknown>[]> => {
    const { stdout } = await run('kubectl', ['kustomize', join(REPO_ROOT, 'deploy', 'kubernetes')]);
    return yaml.loadAll(stdout) as Record<string, unknown>[];
  };

  it('kubectl kustomize accepts the manifests: namespace, RBAC, a Deployment per role with probes, PDBs, the APIService', async () => {
    const objects = await load();
    const kinds = objects.map((o) => `${o.kind as string}/${(o.metadata as { name: string }).name}`);
    for (const role of ['scheduler', 'scraper', 'processor', 'exporter', 'eventer', 'api']) assert.ok(kinds.includes(`Deployment/podometer-${role}`), role);
    assert.ok(kinds.includes('APIService/v1beta1.metrics.k8s.io'));
    assert.ok(kinds.some((k) => k.startsWith('PodDisruptionBudget/')));
    for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
      const container = ((deployment.spec as { template: { spec: { containers: { args: string[]; env?: { name: string }[]; livenessProbe?: { httpGet: { path: string } }; readinessProbe?: { httpGet: { path: string } }; resources?: { requests?: unknown } }[] } } }).template.spec.containers[0])!;
      const role = container.args[0]!;
      assert.equal((container as { command?: unknown }).command, undefined, `${role} keeps the image's entry point (its node flags)`);
      assert.equal(container.livenessProbe?.httpGet.path, '/livez', role);
      assert.equal(container.readinessProbe?.httpGet.path, '/readyz', role);
      assert.ok(container.resources?.requests, role);
      for (const flag of flagNames(container.args.slice(1))) assert.ok(flagsOf(role).has(flag), `${role}: --${flag}`);
      const anyRole = new Set(Object.keys(ROLE_OPTIONS).flatMap((r) => [...envOf(r)]));
      for (const { name } of container.env ?? []) assert.ok(anyRole.has(name), `${role}: ${name} is read by some role`);
    }
    const redis = objects.find((o) => o.kind === 'StatefulSet' && (o.metadata as { name: string }).name.includes('redis')) as { spec: { template: { spec: { containers: { args: string[] }[] } } } } | undefined;
    assert.ok(redis, 'a Redis StatefulSet');
    assertPersistenceAsBenchmarked(redis.spec.template.spec.containers[0]!.args, 'kubernetes redis');
  });

  it("each role's ServiceAccount is granted what that role uses and nothing more; the others mount no token", async () => {
    const objects = await load();
    type Rule = { apiGroups: string[]; resources?: string[]; verbs: string[]; nonResourceURLs?: string[] };
    type Named = { kind: string; metadata: { name: string; namespace?: string } };
    const named = (kind: string): (Named & Record<string, unknown>)[] => objects.filter((o) => o.kind === kind) as (Named & Record<string, unknown>)[];
    assert.equal(named('Role').length + named('RoleBinding').length, 0, 'no namespaced grants');
    /** `verb resource` pairs granted to a ServiceAccount through ClusterRoleBindings. */
    const grantsOf = (account: string): string[] => {
      const grants: string[] = [];
      for (const binding of named('ClusterRoleBinding') as unknown as { roleRef: { name: string }; subjects: { kind: string; name: string }[] }[]) {
        if (!binding.subjects.some((s) => s.kind === 'ServiceAccount' && s.name === account)) continue;
        const role = named('ClusterRole').find((r) => r.metadata.name === binding.roleRef.name) as unknown as { rules: Rule[] } | undefined;
        assert.ok(role, `ClusterRole ${binding.roleRef.name}`);
        for (const rule of role.rules) {
          assert.deepEqual(rule.apiGroups, [''], 'the core API group only');
          assert.equal(rule.nonResourceURLs, undefined);
          for (const resource of rule.resources ?? []) for (const verb of rule.verbs) grants.push(`${verb} ${resource}`);
        }
      }
      return grants.sort();
    };
    const expected: Record<string, string[]> = {
      scheduler: ['list namespaces', 'list nodes', 'list pods', 'watch namespaces', 'watch nodes', 'watch pods'],
      scraper: ['get nodes/stats'],
      eventer: ['list events', 'watch events'],
      processor: [],
      exporter: [],
      api: [],
    };
    const accounts = new Map(named('ServiceAccount').map((a) => [a.metadata.name, a as { automountServiceAccountToken?: boolean }]));
    for (const deployment of named('Deployment') as unknown as { spec: { template: { spec: { serviceAccountName?: string; automountServiceAccountToken?: boolean; containers: { args: string[] }[] } } } }[]) {
      const pod = deployment.spec.template.spec;
      const role = pod.containers[0]!.args[0]!;
      assert.ok(role in expected, role);
      const account = pod.serviceAccountName ?? 'default';
      assert.ok(accounts.has(account), `${role}: ServiceAccount ${account} is in the manifests`);
      assert.deepEqual(grantsOf(account), expected[role], `${role}'s grants`);
      const mountsToken = pod.automountServiceAccountToken ?? accounts.get(account)!.automountServiceAccountToken ?? true;
      assert.equal(mountsToken, expected[role]!.length > 0, `${role} mounts a service-account token only if it uses one`);
    }
  });
});
