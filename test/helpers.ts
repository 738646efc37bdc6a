/** Paths and small helpers shared by the tests. */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { MetricSet } from '../services/common/metric-set.js';
import { LocalRedis } from '../simulator/redis-server.js';

/** The repository root (this file runs as dist/test/helpers.js). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The shared real-cluster samples, beside the repository. */
export const FIXTURES = resolve(REPO_ROOT, '..', 'shared', 'fixtures');
export const SUMMARY_FIXTURES = join(FIXTURES, 'kubelet-summary');
export const CLI = join(REPO_ROOT, 'bin', 'podometer.js');

const scratchDirs: string[] = [];
process.on('exit', () => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/** A new directory under the system's temporary directory, removed when the test process exits (servers' data, certificates). */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `podometer-${prefix}-`));
  scratchDirs.push(dir);
  return dir;
}

/**
 * A real Redis for the enclosing `describe`: started (in a scratch directory) before its tests,
 * `started` given it and a client of it, both stopped after its tests. For suites with nothing
 * else to tear down before Redis goes.
 */
export function useLocalRedis(name: string, started: (server: LocalRedis, redis: Redis) => void): void {
  let server: LocalRedis | undefined;
  let redis: Redis | undefined;
  before(async () => {
    server = await LocalRedis.start(join(scratchDir(name), 'redis'));
    redis = new Redis(server.url);
    started(server, redis);
  });
  after(async () => {
    redis?.disconnect();
    await server?.stop();
  });
}

export function summaryFixture(name: string): string {
  return readFileSync(join(SUMMARY_FIXTURES, name), 'utf8');
}

export function allSummaryFixtures(): string[] {
  return readdirSync(SUMMARY_FIXTURES).filter((f) => f.endsWith('.json')).sort();
}

export function setByKey(sets: readonly MetricSet[], key: string): MetricSet {
  const set = sets.find((s) => s.key === key);
  if (!set) throw new Error(`no metric set ${key}; have ${sets.map((s) => s.key).slice(0, 10).join(', ')} ...`);
  return set;
}

export function labeledValue(set: MetricSet, name: string, resourceId: string): number | bigint | undefined {
  return set.labeled.find((v) => v.name === name && v.labels.resource_id === resourceId)?.value;
}
