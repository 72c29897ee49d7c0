/**
 * Long reads that share the main thread with appends: a bundle export (gateway/logbuilder/export.ts)
 * and a CSV export (gateway/http/receipts.ts). Each works from reads already in memory, so left to
 * run it would take the main thread until its next LevelDB read, and every step of an append behind
 * it (its request, commit, fsync completion, answer) would wait (docs/performance.md §12).
 */
import { setImmediate, setTimeout } from 'node:timers/promises';

/**
 * Most main-thread time a long read takes at a stretch, in ms, before it lets the event loop run what
 * is waiting (appends' requests, commits, answers). Under 150 appends/s, appends waited seconds
 * behind an unsliced 117 MiB export. Slices of 5, 2 and 1 ms cost the export no measurable rate;
 * 1 ms gave appends the lowest latency (docs/performance.md §12).
 */
export const SLICE_MS = 1;

/** Other work that held the event loop longer than this while an export yielded (ms) makes it rest. */
export const BUSY_MS = 0.5;

/**
 * Yields to the event loop once `sliceMs` of work have passed since the last time it did. When the
 * loop had other work waiting (it took longer than `busyMs` to come back), the export also rests,
 * for as long as that work took (at most 10 ms): while appends run, an export takes about half of
 * the main thread, and all of it when nothing else wants it.
 */
export class Slicer {
  private since = performance.now();
  /** How many times it yielded, and how many of those it also rested. */
  yields = 0;
  rests = 0;
  constructor(
    private readonly sliceMs = SLICE_MS,
    private readonly busyMs = BUSY_MS,
  ) {}

  async pace(): Promise<void> {
    if (performance.now() - this.since < this.sliceMs) return;
    const yielded = performance.now();
    await setImmediate();
    this.yields++;
    const others = performance.now() - yielded;
    if (others > this.busyMs) {
      this.rests++;
      await setTimeout(Math.min(others, 10));
    }
    this.since = performance.now();
  }
}
