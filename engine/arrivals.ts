/**
 * Who may submit again soon: the committer's block window (committer.ts) and the gateway's append
 * window (gateway/append/window.ts) wait only for a transaction that is likely to come, never for one
 * that cannot.
 *
 * Per creator (submitting identity) it keeps the mean gap between its transactions and how many of
 * them it had in the committer at once (queued or being written). A creator is *expected* before a
 * deadline when its next transaction is due by then (last arrival + mean gap, and not overdue by more
 * than a mean gap) and it has fewer in the committer than it has recently had at once. So a client that sends one transaction at a time and
 * waits for its answer (peak 1) is never waited for while its transaction is in the committer: it
 * cannot send the next one before the block is written, and waiting would only add latency (with
 * several such clients a fixed window made each one wait the whole window every time, and at 150/s on
 * a loaded machine their queues grew without bound). A client with several requests in flight
 * (peak > 1) and clients whose transaction is not in the committer are waited for, up to the window.
 */

/** Weight of the newest gap in the mean (an exponentially weighted moving average). */
const GAP_WEIGHT = 0.2;
/** How long a peak of concurrent transactions is remembered before it is measured afresh, in ms. */
const PEAK_MS = 1000;
/** A creator with nothing in the committer for this long is forgotten, in ms. */
const FORGET_MS = 5000;
/** Most creators remembered (the oldest idle ones are forgotten first). */
const MAX_CREATORS = 4096;

interface Rhythm {
  /** performance.now() of its last transaction. */
  last: number;
  /** Mean gap between its transactions, in ms (Infinity until it sent two). */
  gap: number;
  /** Its transactions in the committer now. */
  current: number;
  /** The most it had in the committer at once since `peakAt`. */
  peak: number;
  peakAt: number;
}

export class Arrivals {
  private readonly creators = new Map<string, Rhythm>();

  /** A transaction of `creator` reached the committer at `now`. */
  arrived(creator: string, now: number): void {
    let r = this.creators.get(creator);
    if (r) {
      // Moved to the back: the map stays ordered by last arrival, oldest first.
      this.creators.delete(creator);
      const gap = now - r.last;
      r.gap = Number.isFinite(r.gap) ? r.gap + GAP_WEIGHT * (gap - r.gap) : gap;
      r.last = now;
    } else {
      if (this.creators.size >= MAX_CREATORS) this.forget(now, true);
      r = { last: now, gap: Number.POSITIVE_INFINITY, current: 0, peak: 0, peakAt: now };
    }
    this.creators.set(creator, r);
    r.current++;
    if (now - r.peakAt > PEAK_MS) {
      r.peak = r.current;
      r.peakAt = now;
    } else r.peak = Math.max(r.peak, r.current);
  }

  /** A transaction of `creator` left the committer (its block was written, or failed). */
  left(creator: string): void {
    const r = this.creators.get(creator);
    if (r && r.current > 0) r.current--;
  }

  /** Whether some creator is expected to send a transaction that could still join a block cut at `deadline`. */
  expectedBy(deadline: number, now: number): boolean {
    this.forget(now, false);
    for (const r of this.creators.values()) if (expected(r, deadline, now)) return true;
    return false;
  }

  /** Whether `creator` is expected to send another before `deadline`. */
  expects(creator: string, deadline: number, now: number): boolean {
    const r = this.creators.get(creator);
    return r !== undefined && expected(r, deadline, now);
  }

  /**
   * Whether `creator`'s next transaction is due before `deadline` by its rhythm alone (whatever it
   * has in flight): a creator whose mean gap is longer than what is left of a window will not
   * send within it, so waiting for it would only add latency.
   */
  dueBy(creator: string, deadline: number, now: number): boolean {
    const r = this.creators.get(creator);
    return r !== undefined && due(r, deadline, now);
  }

  /** Drops creators idle for FORGET_MS (all idle ones from the oldest on when `full`, to make room). */
  private forget(now: number, full: boolean): void {
    for (const [creator, r] of this.creators) {
      if (now - r.last <= FORGET_MS && !full) return;
      if (r.current === 0) this.creators.delete(creator);
      if (full && this.creators.size < MAX_CREATORS) return;
    }
  }
}

/** Due by the deadline, not overdue by more than a mean gap (one that stopped is not waited for), and able to send. */
function expected(r: Rhythm, deadline: number, now: number): boolean {
  return r.current < Math.max(1, r.peak) && due(r, deadline, now);
}

/** Its next transaction due by the deadline and not overdue by more than a mean gap. */
function due(r: Rhythm, deadline: number, now: number): boolean {
  const next = r.last + r.gap;
  return next <= deadline && now - next <= r.gap;
}
