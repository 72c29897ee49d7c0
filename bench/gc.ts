/**
 * V8's garbage collections as `gc` performance entries (their pause on the main thread), for the
 * A/B scripts that count collections next to CPU time (query-ab.ts, append-ab.ts).
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { median } from './harness.js';

export interface Collection {
  start: number;
  end: number;
  kind: 'minor' | 'major' | 'incremental' | 'weak';
}

const GC_KINDS: Record<number, Collection['kind']> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak',
};

/** Collections as V8 reports them (their pause on the main thread), for the whole measurement. */
export function observeCollections(): { collections: Collection[]; stop: () => void } {
  const collections: Collection[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = GC_KINDS[(e as unknown as { detail: { kind: number } }).detail.kind] ?? 'weak';
      collections.push({ start: e.startTime, end: e.startTime + e.duration, kind });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { collections, stop: () => observer.disconnect() };
}

/** Collections of one kind, and their pauses' median and largest, ms. */
export function collectionSummary(collections: readonly Collection[], kind: Collection['kind']): string {
  const pauses = collections.filter((c) => c.kind === kind).map((c) => c.end - c.start);
  return `${pauses.length} ${kind} (pause p50 ${median(pauses.length ? pauses : [0]).toFixed(2)} / max ${Math.max(0, ...pauses).toFixed(2)} ms)`;
}
