/**
 * A private redis-server for the demo, the tests and the benchmark: its own port on loopback, its
 * own directory, append-only persistence (so a restart keeps the data, as in production).
 * Needs `redis-server` on the PATH (Debian's redis-server package; `scripts/setup.sh --servers`).
 */
import { mkdir } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { ServerProcess } from './server-process.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free port below Linux's ephemeral range (32768-60999), for a server that another process
 * binds later: thousands of simulated kubelets binding port 0 in the meantime cannot take it.
 */
export async function freePortBelowEphemeralRange(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  throw new Error('no free port between 20000 and 32000');
}

async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Persistence as deployed (docker-compose.yml, deploy/kubernetes/redis.yaml): the append-only file
 * alone, no RDB snapshots (the default save rules would fork and dump the dataset every minute),
 * and no LZF compression of the rewrites' RDB part: with the pipeline's staged JSON, compression
 * is nearly half of each rewrite's CPU (`node scripts/redis-rewrite-cost.mjs`: 0.48 against 0.28 s
 * for 104 MiB of staged sets) for files a quarter smaller (66 against 87 MiB).
 */
export const REDIS_PERSISTENCE_ARGS = ['--appendonly', 'yes', '--save', '', '--rdbcompression', 'no'] as const;

export class LocalRedis {
  private readonly server: ServerProcess;

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {
    this.server = new ServerProcess(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...REDIS_PERSISTENCE_ARGS, '--protected-mode', 'yes'],
      () => answersPing(port),
      'install it with: bash scripts/setup.sh --servers',
      10_000,
    );
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The server's process id (for CPU and memory figures). */
  get pid(): number | undefined {
    return this.server.pid;
  }

  static async start(dir: string, port?: number): Promise<LocalRedis> {
    await mkdir(dir, { recursive: true });
    const redis = new LocalRedis(port ?? (await freePort()), dir);
    await redis.server.launch();
    return redis;
  }

  /** Stops the server (SIGTERM lets it flush its append-only file). */
  stop(): Promise<void> {
    return this.server.stop();
  }

  /** Stops and starts again on the same port and directory. */
  restart(): Promise<void> {
    return this.server.restart();
  }
}
