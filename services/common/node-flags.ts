/**
 * V8 flags every long-running Podometer role runs with. They must be on node's command line: NODE_OPTIONS
 * refuses V8 flags. The bench and the test harness spawn roles with them; the Dockerfile's ENTRYPOINT and
 * `bin/podometer.js`'s shebang repeat them for production.
 *
 * `--no-memory-reducer`: V8's memory reducer garbage-collects and shrinks a heap once allocation has been
 * low for ~8 s. Every role works in one burst per window and idles in between, so at 60 s windows the
 * reducer shrank the heap after each burst and the next burst paid to grow it back: a scraper's CPU per
 * node-scrape was ~60% higher at 60 s windows than at 15 s ones. The peak heap is reached inside the burst
 * either way.
 */
export const ROLE_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];
