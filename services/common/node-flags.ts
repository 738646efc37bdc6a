/**
 * V8 flags every long-running Podometer role runs with. They must be on node's command line: NODE_OPTIONS
 * refuses V8 flags. The bench and the test harness spawn roles with them; the Dockerfile's ENTRYPOINT and
 * `bin/podometer.js`'s shebang (which `npm run demo` runs) repeat them, and a deploy test checks both.
 *
 * `--no-memory-reducer`: V8's memory reducer garbage-collects and shrinks a heap once allocation has been
 * low for ~8 s. Every role works in one burst per window and idles in between. With the reducer on, the
 * scrapers' CPU per node-scrape at 60 s windows was about 1.5x what it was at 15 s windows or with the
 * reducer off (docs/benchmarks.md has the figures): most likely each burst grew back the heap the reducer
 * had shrunk. Peak memory is reached inside the burst and barely moved.
 */
export const ROLE_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];
