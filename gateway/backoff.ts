/**
 * Exponential backoff with jitter, for everything the gateway retries (appends within their budget,
 * the log builder's block stream): the delay doubles per consecutive failure from `initialMs` up to
 * `maxMs`, then is drawn uniformly from [d/2, d) ("equal jitter", AWS architecture blog,
 * "Exponential Backoff And Jitter"), so clients that failed together do not retry together.
 */
export function backoffDelay(
  failures: number,
  initialMs: number,
  maxMs: number,
  random: () => number,
): number {
  const d = Math.min(maxMs, initialMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return Math.round(d / 2 + (random() * d) / 2);
}
