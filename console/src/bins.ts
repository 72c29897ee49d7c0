/** Buckets receipt times per source for the timeline chart. Pure, so it is unit-tested in Node. */
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
/** Bucket widths a person reads easily. */
export const STEPS = [S, 5 * S, 15 * S, M, 5 * M, 15 * M, H, 3 * H, 6 * H, 12 * H, D, 7 * D, 30 * D] as const;

export interface Point {
  readonly source: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

export interface Binned {
  /** Bucket width, ms. */
  readonly step: number;
  /** Start of the first bucket, ms (a multiple of `step`). */
  readonly start: number;
  /** counts[bucket][source index] */
  readonly counts: number[][];
  readonly sources: readonly string[];
  readonly max: number;
}

export function binPoints(
  points: readonly Point[],
  maxBins = 48,
  range?: { from?: number; to?: number },
): Binned {
  const sources = [...new Set(points.map((p) => p.source))].sort();
  if (points.length === 0) return { step: M, start: 0, counts: [], sources, max: 0 };
  let lo = range?.from ?? Math.min(...points.map((p) => p.at));
  let hi = range?.to ?? Math.max(...points.map((p) => p.at)) + 1;
  if (hi <= lo) hi = lo + 1;
  const step =
    STEPS.find((s) => Math.ceil(hi / s) - Math.floor(lo / s) <= maxBins) ?? STEPS[STEPS.length - 1]!;
  lo = Math.floor(lo / step) * step;
  const n = Math.max(1, Math.ceil((hi - lo) / step));
  const counts = Array.from({ length: n }, () => sources.map(() => 0));
  const index = new Map(sources.map((s, i) => [s, i]));
  for (const p of points) {
    const b = Math.floor((p.at - lo) / step);
    if (b >= 0 && b < n) counts[b]![index.get(p.source)!]!++;
  }
  const max = Math.max(0, ...counts.map((c) => c.reduce((a, b) => a + b, 0)));
  return { step, start: lo, counts, sources, max };
}

export function stepLabel(step: number): string {
  if (step >= D) return `${step / D} day${step === D ? '' : 's'}`;
  if (step >= H) return `${step / H} h`;
  if (step >= M) return `${step / M} min`;
  return `${step / S} s`;
}
