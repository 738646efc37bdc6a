/**
 * A private InfluxDB 1.x (`influxd` from Debian's influxdb package) for the tests: its own
 * directory and loopback ports, started and stopped like LocalRedis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort } from './redis-server.js';

export class LocalInflux {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(dir: string): Promise<LocalInflux> {
    await mkdir(dir, { recursive: true });
    const influx = new LocalInflux(await freePort(), dir);
    const config = [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${await freePort()}"`,
      '[meta]', `  dir = "${join(dir, 'meta')}"`,
      '[data]', `  dir = "${join(dir, 'data')}"`, `  wal-dir = "${join(dir, 'wal')}"`, '  query-log-enabled = false',
      // Heapster's default schema makes a series per metric and set: lift 1.x's default caps.
      '  max-series-per-database = 0', '  max-values-per-tag = 0',
      '[http]', `  bind-address = "127.0.0.1:${influx.port}"`, '  log-enabled = false',
      '[monitor]', '  store-enabled = false',
      '[logging]', '  level = "warn"',
      '',
    ].join('\n');
    await writeFile(join(dir, 'influxdb.conf'), config);
    await influx.launch();
    return influx;
  }

  private async launch(): Promise<void> {
    const child = spawn('influxd', ['-config', join(this.dir, 'influxdb.conf')], { stdio: 'ignore' });
    this.process = child;
    let failure: Error | undefined;
    child.once('error', (error) => (failure = new Error(`cannot start influxd (${error.message}); install it with: apt-get install influxdb`)));
    child.once('exit', (code) => (failure ??= new Error(`influxd exited with code ${code}`)));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (failure) throw failure;
      try {
        const response = await request(`${this.url}/ping`);
        await response.body.dump();
        if (response.statusCode === 204) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`influxd on port ${this.port} did not answer within 20 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** An InfluxQL query; returns the first statement's series. */
  async query(db: string, q: string): Promise<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]> {
    const response = await request(`${this.url}/query?${new URLSearchParams({ db, q, epoch: 'ms' })}`);
    const body = (await response.body.json()) as { results: { series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]; error?: string }[]; error?: string };
    const result = body.results?.[0];
    if (body.error || result?.error) throw new Error(`InfluxQL ${q}: ${body.error ?? result?.error}`);
    return result?.series ?? [];
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }
}
