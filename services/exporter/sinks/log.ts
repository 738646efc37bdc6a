/** Heapster's `log` sink: every metric set of every window on standard output, one JSON line each. */
import { metricSetJson } from '../../common/batch-codec.js';
import type { EventRecord } from '../../common/jobs.js';
import type { Sink, WindowBatch } from '../sink.js';

export class LogSink implements Sink {
  constructor(
    readonly name: string,
    private readonly write_: (line: string) => void = (line) => process.stdout.write(line),
  ) {}

  async write(window: WindowBatch): Promise<void> {
    for await (const sets of window.chunks()) {
      for (const set of sets) this.write_(`{"windowEndMs":${window.summary.windowEndMs},"set":${metricSetJson(set)}}\n`);
    }
  }

  async writeEvents(events: readonly EventRecord[]): Promise<void> {
    for (const event of events) this.write_(`{"event":${event.json}}\n`);
  }

  async close(): Promise<void> {}
}
