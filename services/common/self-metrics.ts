/**
 * Self-metrics in Prometheus format (prom-client), one registry per process. Each role records
 * what it does; queue depths and sink counters are read from Redis when /metrics is scraped, so
 * every replica reports the same cluster-wide figures for those.
 *
 * Cardinality: per-node series (`podometer_node_*{node}`) are one series per node each; every
 * histogram is labelled only by outcome or sink.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import type { NodeRecord, WindowSummary } from './jobs.js';
import { QUEUE, type RedisKeys } from './keys.js';
import type { PipelineQueues } from './queues.js';

/** How often the event-loop delay is sampled (ms). */
const EVENT_LOOP_SAMPLE_MS = 1000;

const SINK_STATS = ['points_written', 'points_rejected', 'documents_written', 'documents_rejected', 'windows_dropped'] as const;

export class SelfMetrics {
  readonly registry = new Registry();
  private readonly scrapeSeconds = new Histogram({ name: 'podometer_scrape_duration_seconds', help: 'Time to fetch one kubelet summary, by outcome.', labelNames: ['outcome'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry] });
  private readonly scrapes = new Counter({ name: 'podometer_scrapes_total', help: 'Kubelet scrapes, by outcome and failure reason.', labelNames: ['outcome', 'reason'], registers: [this.registry] });
  private readonly nodeSeconds = new Gauge({ name: 'podometer_node_scrape_duration_seconds', help: 'Duration of the last scrape of each node.', labelNames: ['node'], registers: [this.registry] });
  private readonly nodeUp = new Gauge({ name: 'podometer_node_scrape_success', help: 'Whether the last scrape of each node succeeded (1) or failed (0).', labelNames: ['node'], registers: [this.registry] });
  private readonly rateSkips = new Counter({ name: 'podometer_rate_skips_total', help: 'Rates not computed, by reason (restart, counter_decrease, no_time_advance, missing_previous).', labelNames: ['reason'], registers: [this.registry] });
  private readonly podsBoundElsewhere = new Counter({ name: 'podometer_pods_bound_elsewhere_total', help: 'Pods a kubelet reported that the API server binds to another node: left out of that kubelet\'s node (counted from the bound node).', registers: [this.registry] });
  private readonly processingSeconds = new Counter({ name: 'podometer_processing_cpu_seconds_total', help: 'CPU spent parsing, processing and encoding node scrapes (the rest of a scraper\'s CPU is fetching, queues and Redis I/O).', registers: [this.registry] });
  private readonly windows = new Counter({ name: 'podometer_windows_finalized_total', help: 'Windows finalized, by what finalized them (complete or deadline).', labelNames: ['by'], registers: [this.registry] });
  private readonly windowNodes = new Gauge({ name: 'podometer_window_nodes', help: 'Nodes of the last finalized window, by outcome (ok, failed, missed).', labelNames: ['outcome'], registers: [this.registry] });
  private readonly windowLatency = new Histogram({ name: 'podometer_window_latency_seconds', help: 'From a window\'s end to its finalization.', buckets: [1, 2.5, 5, 7.5, 10, 15, 20, 30, 45, 60, 90], registers: [this.registry] });
  private readonly sinkSeconds = new Histogram({ name: 'podometer_sink_write_duration_seconds', help: 'Time to write one window to a sink.', labelNames: ['sink'], buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers: [this.registry] });
  private readonly events = new Counter({ name: 'podometer_events_delivered_total', help: 'Kubernetes events handed to the sinks by the eventer (each uid and count once).', registers: [this.registry] });
  private readonly sinkErrors = new Counter({ name: 'podometer_sink_write_errors_total', help: 'Failed window writes, by sink and whether they are retried.', labelNames: ['sink', 'retryable'], registers: [this.registry] });

  constructor(options: { role: string; queues?: PipelineQueues; redis?: Redis; keys?: RedisKeys; sinks?: readonly string[] }) {
    // prom-client samples event-loop delay every 10 ms by default. Each sample wakes the process
    // (two epoll wakeups), and on this VM the wakeups are most of what an idle role costs: with
    // 10 ms an idle processor used 0.52 s of CPU a minute, with 100 ms 0.28 s; at 1 s the four
    // roles together idle at 0.24-0.26 s a minute against 0.39-0.57 at 100 ms (/proc, 60 s of each
    // role idling between windows; docs/benchmarks.md). A lag long enough to matter still shows.
    collectDefaultMetrics({ register: this.registry, prefix: 'podometer_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    // prom-client names a few gauges `*_total` (active handles, requests, resources), which
    // Prometheus' own lint (promtool) rejects: leave those out.
    for (const metric of this.registry.getMetricsAsArray()) {
      if (metric.name.endsWith('_total') && !(metric instanceof Counter)) this.registry.removeSingleMetric(metric.name);
    }
    this.registry.setDefaultLabels({ role: options.role });
    const { queues, redis, keys, sinks = [] } = options;
    if (queues) {
      new Gauge({
        name: 'podometer_queue_jobs', help: 'Jobs in each queue, by state.', labelNames: ['queue', 'state'], registers: [this.registry],
        async collect() {
          // The scrape shards are summed into one `scrape` series per state.
          const jobs = new Map<string, Record<string, number>>();
          for (const queue of queues.all()) {
            const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
            const family = QUEUE.familyOf(queue.name);
            const sums = jobs.get(family) ?? {};
            for (const [state, n] of Object.entries(counts)) sums[state] = (sums[state] ?? 0) + n;
            jobs.set(family, sums);
          }
          for (const [queue, counts] of jobs) for (const [state, n] of Object.entries(counts)) this.set({ queue, state }, n);
        },
      });
    }
    if (redis && keys && sinks.length > 0) {
      for (const stat of SINK_STATS) {
        new Counter({
          name: `podometer_sink_${stat}_total`, help: `Sink counter ${stat.replace(/_/g, ' ')}, across all exporters (kept in Redis).`, labelNames: ['sink'], registers: [this.registry],
          async collect() {
            // The count lives in Redis: report it as it stands there.
            this.reset();
            for (const sink of sinks) this.inc({ sink }, Number((await redis.hget(keys.sinkStats(sink), stat)) ?? 0));
          },
        });
      }
    }
  }

  scraped(nodeName: string, record: NodeRecord): void {
    const outcome = record.status;
    this.scrapeSeconds.observe({ outcome }, record.durationMs / 1000);
    this.scrapes.inc({ outcome, reason: record.status === 'failed' ? record.reason : '' });
    this.nodeSeconds.set({ node: nodeName }, record.durationMs / 1000);
    this.nodeUp.set({ node: nodeName }, outcome === 'ok' ? 1 : 0);
  }

  processed(record: NodeRecord): void {
    for (const [reason, n] of Object.entries(record.rateSkips ?? {})) this.rateSkips.inc({ reason }, n);
    if (record.processingCpuMs !== undefined) this.processingSeconds.inc(record.processingCpuMs / 1000);
    const leftOut = Object.keys(record.podsBoundElsewhere ?? {}).length;
    if (leftOut > 0) this.podsBoundElsewhere.inc(leftOut);
  }

  finalized(summary: WindowSummary): void {
    this.windows.inc({ by: summary.finalizedBy });
    const failed = Object.keys(summary.failedNodes).length;
    this.windowNodes.set({ outcome: 'ok' }, summary.okNodes);
    this.windowNodes.set({ outcome: 'failed' }, failed);
    this.windowNodes.set({ outcome: 'missed' }, summary.missedNodes.length);
    this.windowLatency.observe((summary.finalizedAtMs - summary.windowEndMs) / 1000);
  }

  eventsDelivered(n: number): void {
    this.events.inc(n);
  }

  sinkWrite(sink: string, seconds: number, error?: { retryable: boolean }): void {
    if (error) this.sinkErrors.inc({ sink, retryable: String(error.retryable) });
    else this.sinkSeconds.observe({ sink }, seconds);
  }
}
