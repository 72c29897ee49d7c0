/**
 * An immediate-queue ticker for tests of long reads that must share the event loop (gateway/slicer.ts):
 * it counts the turns of the loop while `body` runs, so a test can see whether turns came between two
 * steps of the read.
 */
export async function besideTicker<T>(body: (ticks: () => number) => Promise<T>): Promise<T> {
  let ticks = 0;
  let running = true;
  const tick = () => {
    ticks++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return await body(() => ticks);
  } finally {
    running = false;
  }
}
