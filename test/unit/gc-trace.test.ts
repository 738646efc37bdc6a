import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { GcTrace, parseGcTraceLine } from '../../services/cli/gc-trace.js';

describe("the bench's garbage-collection trace", () => {
  it('reads scavenges and full collections from the lines V8 prints, and nothing else', () => {
    assert.deepEqual(parseGcTraceLine('[1234:0x5a0c100]     2717 ms: pause=3.1 mutator=41.0 gc=s reduce_memory=0 allocated=14022144 promoted=530224'), { atMs: 2717, full: false, pauseMs: 3.1, allocatedBytes: 14022144, promotedBytes: 530224 });
    assert.deepEqual(parseGcTraceLine('[1234:0x5a0c100]    90321 ms: pause=12.5 mutator=800.2 gc=mc reduce_memory=0 allocated=5430000 promoted=0'), { atMs: 90321, full: true, pauseMs: 12.5, allocatedBytes: 5430000, promotedBytes: 0 });
    assert.equal(parseGcTraceLine('{"level":"info","msg":"started"}'), undefined);
    assert.equal(parseGcTraceLine(''), undefined);
  });

  it('counts what a real node process, run with --trace-gc-nvp, collects and allocates, within the interval asked for', async () => {
    // 200 arrays of 100,000 numbers, ~800 KB each, dropped at once: ~160 MB allocated in all; and
    // 400,000 small objects kept to the end, which the scavenges move to the old generation.
    const script = 'const kept = []; let n = 0; for (let i = 0; i < 200; i++) { n += new Array(100000).fill(i + 0.5).length; for (let j = 0; j < 2000; j++) kept.push({ i, j }); } console.error(n, kept.length);';
    const startedAtMs = performance.now();
    const child = spawn(process.execPath, ['--trace-gc-nvp', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const trace = new GcTrace(startedAtMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => trace.write(chunk));
    const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(await closed, 0);
    const endedAtMs = performance.now();
    const all = trace.tally(startedAtMs, endedAtMs + 1000);
    assert.ok(all.collections > 0 && all.collections === trace.events.length, `${all.collections} collections, every one in the run`);
    assert.ok(all.allocatedBytes > 100e6, `${all.allocatedBytes} bytes allocated by the trace, against ~160 MB`);
    assert.ok(all.pauseSeconds > 0);
    assert.ok(all.promotedBytes > 4e6, `${all.promotedBytes} bytes promoted, against ~16 MB of objects kept`);
    // Nothing happened before the process was started.
    assert.equal(trace.tally(startedAtMs - 10_000, startedAtMs - 1).collections, 0);
  });
});
