/**
 * A server the tests, the demo and the benchmark run themselves (redis-server, influxd): started
 * from Debian's binary, ready once `ready()` answers, stopped with SIGTERM (so it flushes its
 * data), restartable on the same port and directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export class ServerProcess {
  private child: ChildProcess | undefined;

  constructor(
    private readonly command: string,
    private readonly args: readonly string[],
    /** Whether the server answers (its ping). */
    private readonly ready: () => Promise<boolean>,
    private readonly installHint: string,
    private readonly readyWithinMs = 20_000,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async launch(): Promise<void> {
    const child = spawn(this.command, [...this.args], { stdio: 'ignore' });
    this.child = child;
    let failure: Error | undefined;
    child.once('error', (error) => (failure = new Error(`cannot start ${this.command} (${error.message}); ${this.installHint}`)));
    child.once('exit', (code) => (failure ??= new Error(`${this.command} exited with code ${code}`)));
    const deadline = Date.now() + this.readyWithinMs;
    for (;;) {
      if (failure) throw failure;
      if (await this.ready()) return;
      if (Date.now() > deadline) throw new Error(`${this.command} did not answer within ${this.readyWithinMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
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
