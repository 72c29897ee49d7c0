/**
 * A file's bytes for `torgo verify` (the bundle it checks, and `readLines`), in chunks read into two
 * buffers in turn. createReadStream reads each chunk into a fresh 1 MiB buffer: ~113 MiB of buffers
 * allocated and collected by the verifier's main thread for a 113 MiB bundle, which shares its core with
 * the work of checking (docs/performance.md §13). Core's framing (core/bundle/lines.ts `bundleFrames`)
 * is done with a chunk's lines, copying what a line keeps past its chunk, before it asks for the next
 * chunk, so a buffer read into again two chunks later holds nothing anyone still reads.
 */
import { open } from 'node:fs/promises';

/** Bytes per read: what createReadStream was given (`highWaterMark`) before. */
export const CHUNK_BYTES = 1 << 20;

export async function* fileChunks(path: string, chunkBytes = CHUNK_BYTES): AsyncGenerator<Uint8Array> {
  const file = await open(path, 'r');
  try {
    // Buffers, not plain arrays: core frames lines with `indexOf`, which a Buffer answers natively. The
    // second one only when a second chunk is read (a header's read takes one).
    const buffers: Buffer[] = [];
    for (let turn = 0; ; turn ^= 1) {
      const buffer = buffers[turn] ?? Buffer.allocUnsafeSlow(chunkBytes);
      buffers[turn] = buffer;
      const { bytesRead } = await file.read(buffer, 0, chunkBytes, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}
