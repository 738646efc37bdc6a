/**
 * A real pipeline for tests: a private redis-server, the simulator, and Podometer's roles started
 * in this process (or as child processes) with a fresh Redis prefix per harness, as BullMQ's own
 * tests use a fresh queue per test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { StoreReader } from '../services/api/store.js';
import { startAll, ALL_ROLE_OPTIONS } from '../services/cli/all.js';
import { EXPORTER_ROLE_OPTIONS, startExporter } from '../services/exporter/main.js';
import { EVENTER_ROLE_OPTIONS } from '../services/eventer/main.js';
import { PROCESSOR_ROLE_OPTIONS, startProcessor } from '../services/processor/main.js';
import { SCHEDULER_ROLE_OPTIONS, startScheduler } from '../services/scheduler/main.js';
import { SCRAPER_ROLE_OPTIONS, startScraper } from '../services/scraper/main.js';
import { loadConfig, reader } from '../services/common/config.js';
import type { WindowSummary } from '../services/common/jobs.js';
import { JOB_ID } from '../services/common/keys.js';
import { openRuntime, closeRuntime, type Runtime, type Service, type ConfigReader } from '../services/common/runtime.js';
import { LocalRedis } from '../simulator/redis-server.js';
import { Simulator, type SimulatorOptions } from '../simulator/simulator.js';
import { CLI, scratchDir } from './helpers.js';
import { ROLE_NODE_FLAGS } from '../services/common/node-flags.js';

let prefixCounter = 0;

const ROLE_OPTIONS = { scheduler: SCHEDULER_ROLE_OPTIONS, scraper: SCRAPER_ROLE_OPTIONS, processor: PROCESSOR_ROLE_OPTIONS, exporter: EXPORTER_ROLE_OPTIONS, eventer: EVENTER_ROLE_OPTIONS } as const;

export class PipelineHarness {
  readonly runtimes: Runtime[] = [];
  readonly services: Service[] = [];
  readonly children: ChildProcess[] = [];
  readonly store: StoreReader;

  private constructor(
    readonly redis: LocalRedis,
    readonly simulator: Simulator,
    readonly args: string[],
    readonly runtime: Runtime,
  ) {
    this.store = new StoreReader(runtime.redis, runtime.keys);
  }

  /** Starts Redis and the simulator; no role yet. `args` are flags every role gets. */
  static async start(simulatorOptions: Partial<SimulatorOptions>, args: string[] = []): Promise<PipelineHarness> {
    const dir = scratchDir('test');
    const redis = await LocalRedis.start(join(dir, 'redis'));
    const simulator = await Simulator.start({ stateDir: join(dir, 'sim'), ...simulatorOptions });
    const allArgs = [
      `--source=kubernetes.summary_api:${simulator.apiUrl}?inClusterConfig=false&kubeletHttps=true`,
      '--kubelet-use-node-status-port', '--kubelet-preferred-address-types=InternalIP',
      `--kubelet-ca-file=${join(dir, 'sim', 'kubelet-ca.crt')}`,
      `--redis-url=${redis.url}`, '--log-level=error', '--metric-resolution=5s', '--scrape-offset=1s', '--scrape-spread=200ms', '--api-address=127.0.0.1:0',
      ...args,
    ];
    allArgs.push(`--redis-prefix=test${process.pid}x${prefixCounter++}`);
    const harness = new PipelineHarness(redis, simulator, allArgs, openRuntime(PipelineHarness.config(allArgs), 'test'));
    harness.runtimes.push(harness.runtime);
    return harness;
  }

  static config(args: readonly string[]): ConfigReader {
    return reader(loadConfig(ALL_ROLE_OPTIONS, args, {}).values);
  }

  /** Every role in this process, on a runtime of its own. */
  async startAll(extra: string[] = []): Promise<Service[]> {
    const get = PipelineHarness.config([...this.args, ...extra]);
    const runtime = openRuntime(get, 'test-all');
    this.runtimes.push(runtime);
    const services = await startAll(runtime, get);
    this.services.push(...services);
    return services;
  }

  /** Some roles in this process, sharing one runtime of their own. */
  async startRoles(roles: readonly ('scheduler' | 'scraper' | 'processor' | 'exporter')[], extra: string[] = []): Promise<Service[]> {
    const get = PipelineHarness.config([...this.args, ...extra]);
    const runtime = openRuntime(get, 'test-roles');
    this.runtimes.push(runtime);
    const started: Service[] = [];
    if (roles.includes('exporter')) started.push(await startExporter(runtime, get));
    if (roles.includes('processor')) started.push(startProcessor(runtime, get));
    if (roles.includes('scraper')) started.push(startScraper(runtime, get));
    if (roles.includes('scheduler')) started.push(await startScheduler(runtime, get));
    this.services.push(...started);
    return started;
  }

  /** A role as a child process (`node bin/podometer.js <role> ...`). */
  spawnRole(role: keyof typeof ROLE_OPTIONS, extra: string[] = []): ChildProcess {
    // A role refuses flags it does not have: pass it only its own.
    const known = new Set(ROLE_OPTIONS[role].map((o) => o.name));
    // Its /metrics on any free port unless the test names one.
    const metrics = extra.some((a) => a.startsWith('--metrics-address')) ? [] : ['--metrics-address=127.0.0.1:0'];
    const args = [...this.args, ...metrics, ...extra].filter((arg) => known.has(arg.slice(2).split('=')[0]!));
    const child = spawn(process.execPath, [...ROLE_NODE_FLAGS, CLI, role, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.resume();
    this.children.push(child);
    return child;
  }

  /** Waits for the first finalized window (in the store) that satisfies `accept`. */
  async waitForWindow(accept: (summary: WindowSummary) => boolean, timeoutMs = 30_000): Promise<WindowSummary> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const windowStartMs of (await this.store.windows()).reverse()) {
        const summary = await this.store.summary(windowStartMs);
        if (summary && accept(summary)) return summary;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no window as expected within ${timeoutMs} ms; windows: ${JSON.stringify(await Promise.all((await this.store.windows()).map((w) => this.store.summary(w))))}`);
  }

  /** Waits for windows that start after `afterMs` and satisfy `accept`; returns the first. */
  async nextWindow(afterMs: number, accept: (summary: WindowSummary) => boolean = () => true, timeoutMs = 30_000): Promise<WindowSummary> {
    return this.waitForWindow((s) => s.windowStartMs > afterMs && accept(s), timeoutMs);
  }

  /** The in-process API's base URL (after startAll). */
  get apiUrl(): string {
    const api = this.services.find((s) => 'server' in s) as (Service & { server: Server }) | undefined;
    if (!api) throw new Error('no API started');
    return `http://127.0.0.1:${(api.server.address() as { port: number }).port}`;
  }

  /** Waits until `sink` has written window `windowStartMs` (its export job completed). */
  async waitForExport(sink: string, windowStartMs: number, timeoutMs = 30_000): Promise<void> {
    const queue = this.runtime.queues.export(sink);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const job = await queue.getJob(JOB_ID.export(sink, windowStartMs));
      if (job && (await job.getState()) === 'completed') return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`sink ${sink} did not write window ${windowStartMs} within ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const service of [...this.services].reverse()) await service.stop();
    for (const runtime of this.runtimes) await closeRuntime(runtime, []);
    await this.simulator.stop();
    await this.redis.stop();
  }
}
