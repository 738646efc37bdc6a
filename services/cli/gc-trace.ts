/**
 * A role's garbage collections, read from V8's `--trace-gc-nvp` lines (one per collection, on the
 * process's stdout), so the bench can say what each role spends in collections and allocates per
 * node-scrape without code in the roles. A line looks like
 *   `[1234:0x5a0c]     2717 ms: pause=3.1 mutator=41.0 gc=s ... allocated=14022144 promoted=530224 ...`
 * where the time is ms since the isolate started, `gc=s` a scavenge and `gc=mmc` a minor
 * mark-compact (both of the young generation), `gc=mc` a full mark-compact, `pause` the main thread's pause in ms, `allocated` the
 * bytes allocated since the collection before and `promoted` the bytes it moved to the old generation.
 */

export interface GcEvent {
  /** When it happened, in ms since the isolate started. */
  atMs: number;
  /** A full collection (mark-compact) rather than a scavenge of the young generation. */
  full: boolean;
  pauseMs: number;
  /** Bytes the process allocated on its heap since the collection before. */
  allocatedBytes: number;
  /** Bytes this collection moved from the young generation to the old (0 for a full one). */
  promotedBytes: number;
}

/** The collections of one role over an interval, summed over its processes. */
export interface GcTally {
  collections: number;
  fullCollections: number;
  /** The main threads' pauses, in seconds. */
  pauseSeconds: number;
  allocatedBytes: number;
  promotedBytes: number;
}

/** A tally of no collections, to add a role's processes' collections into. */
export const emptyGcTally = (): GcTally => ({ collections: 0, fullCollections: 0, pauseSeconds: 0, allocatedBytes: 0, promotedBytes: 0 });

const LINE = /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: pause=([\d.]+) .*\bgc=(\w+)\b.*\ballocated=(\d+)\b(?:.*\bpromoted=(\d+)\b)?/;

/** The collection a `--trace-gc-nvp` line reports; undefined for any other line. */
export function parseGcTraceLine(line: string): GcEvent | undefined {
  const match = LINE.exec(line);
  if (!match) return undefined;
  return { atMs: Number(match[1]), full: match[3] !== 's' && match[3] !== 'mmc', pauseMs: Number(match[2]), allocatedBytes: Number(match[4]), promotedBytes: Number(match[5] ?? 0) };
}

/**
 * Collects a child's `--trace-gc-nvp` lines from its stdout chunks. V8 writes them through C's
 * stdio, which buffers a pipe: lines arrive late and in bursts, so events are placed in time by
 * their own timestamps, against `startedAtMs` (when the process was spawned, on the caller's clock).
 */
export class GcTrace {
  readonly events: GcEvent[] = [];
  private partial = '';

  constructor(readonly startedAtMs: number) {}

  write(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const event = parseGcTraceLine(line);
      if (event) this.events.push(event);
    }
  }

  /** The collections between `fromMs` and `toMs` on the caller's clock. */
  tally(fromMs: number, toMs: number, into: GcTally = emptyGcTally()): GcTally {
    for (const event of this.events) {
      const atMs = this.startedAtMs + event.atMs;
      if (atMs < fromMs || atMs > toMs) continue;
      into.collections += 1;
      if (event.full) into.fullCollections += 1;
      into.pauseSeconds += event.pauseMs / 1000;
      into.allocatedBytes += event.allocatedBytes;
      into.promotedBytes += event.promotedBytes;
    }
    return into;
  }
}
