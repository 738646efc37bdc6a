/**
 * V8 flags every long-running Podometer role runs with. They must be on node's command line: NODE_OPTIONS
 * refuses V8 flags. The bench and the test harness spawn roles with them; the Dockerfile's ENTRYPOINT and
 * `bin/podometer.js`'s shebang (which `npm run demo` runs) repeat them, and a deploy test checks both.
 *
 * `--no-memory-reducer`: V8's memory reducer garbage-collects and shrinks a heap once allocation has been
 * low for ~8 s. Every role works in one burst per window and idles in between. With the reducer on, the
 * scrapers' CPU per node-scrape at 60 s windows was about 1.5x what it was at 15 s windows or with the
 * reducer off (README, Benchmarks, has the figures): most likely each burst grew back the heap the reducer
 * had shrunk. Peak memory is reached inside the burst and barely moved.
 *
 * `--heap-growing-percent=50`: after a full collection V8 lets the old generation grow to 1.5x what
 * survived it, instead of up to 4x by its own heuristics. In a scraper most of the old generation is
 * garbage between collections (summaries and staging buffers promoted while their job awaited Redis),
 * and the dead Buffers' memory, outside the heap, is freed only by a full collection. At 1,000 nodes
 * (bench, 2 scrapers) the scrapers' peak fell from 468-484 to 398-402 MiB; their CPU per node-scrape
 * against the same run's limit read 2.80 / 2.89x with it and 2.66 / 2.87x without, within this
 * machine's noise. The other roles' peaks did not move.
 */
export const ROLE_NODE_FLAGS: readonly string[] = ['--no-memory-reducer', '--heap-growing-percent=50'];
