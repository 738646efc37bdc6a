/**
 * Windows, as Heapster aligned them: `start = floor(t / resolution) * resolution`,
 * `end = start + resolution`, scrapes begin at `end + offset`. A window is finalized when every
 * expected node is processed or at its deadline, whichever comes first. All times in ms.
 */
import type { WindowManifest } from '../common/jobs.js';

export interface WindowTiming {
  resolutionMs: number;
  offsetMs: number;
  /** Deadline after the scrape start; 0 means 75% of the resolution. */
  deadlineAfterScrapeMs: number;
}

export function windowStartOf(timeMs: number, resolutionMs: number): number {
  return Math.floor(timeMs / resolutionMs) * resolutionMs;
}

export function planWindow(windowStartMs: number, timing: WindowTiming, expectedNodes: string[]): WindowManifest {
  const windowEndMs = windowStartMs + timing.resolutionMs;
  const scrapeAtMs = windowEndMs + timing.offsetMs;
  const deadlineAfter = timing.deadlineAfterScrapeMs > 0 ? timing.deadlineAfterScrapeMs : Math.round(timing.resolutionMs * 0.75);
  return { windowStartMs, windowEndMs, scrapeAtMs, deadlineMs: scrapeAtMs + deadlineAfter, expectedNodes };
}

/** The latest window whose scrape time has come by `nowMs`. */
export function dueWindowStart(nowMs: number, timing: WindowTiming): number {
  return windowStartOf(nowMs - timing.offsetMs, timing.resolutionMs) - timing.resolutionMs;
}

/**
 * Heapster spread the scrapes of a window with a random delay of up to 8 ms per node, at most
 * `maxSpreadMs`. Podometer makes the delay a stable hash of the node name, so a node is scraped
 * at the same point of every window and its rates cover one full resolution.
 */
export function scrapeDelayMs(nodeName: string, nodeCount: number, maxSpreadMs: number): number {
  const spread = Math.min(8 * nodeCount, maxSpreadMs);
  if (spread <= 0) return 0;
  let hash = 2166136261;
  for (let i = 0; i < nodeName.length; i++) hash = Math.imul(hash ^ nodeName.charCodeAt(i), 16777619) >>> 0;
  return hash % spread;
}
