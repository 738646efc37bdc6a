/**
 * A private InfluxDB 1.x (`influxd` from Debian's influxdb package) for the tests: its own
 * directory and loopback ports, started and stopped like LocalRedis.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort } from './redis-server.js';
import { ServerProcess } from './server-process.js';

export class LocalInflux {
  private readonly server: ServerProcess;

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {
    const ping = async (): Promise<boolean> => {
      try {
        const response = await request(`${this.url}/ping`);
        await response.body.dump();
        return response.statusCode === 204;
      } catch {
        return false;
      }
    };
    this.server = new ServerProcess('influxd', ['-config', join(dir, 'influxdb.conf')], ping, 'install it with: apt-get install influxdb');
  }

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
    await influx.server.launch();
    return influx;
  }

  /** An InfluxQL query; returns the first statement's series. */
  async query(db: string, q: string): Promise<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]> {
    const response = await request(`${this.url}/query?${new URLSearchParams({ db, q, epoch: 'ms' })}`);
    const body = (await response.body.json()) as { results: { series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]; error?: string }[]; error?: string };
    const result = body.results?.[0];
    if (body.error || result?.error) throw new Error(`InfluxQL ${q}: ${body.error ?? result?.error}`);
    return result?.series ?? [];
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  restart(): Promise<void> {
    return this.server.restart();
  }
}
