/** Streams a file's bundle lines through core's strict line reader. */
import { bundleLines } from '../../core/index.js';
import type { Sha256Hasher } from '../../core/crypto/hash.js';
import { fileChunks } from './chunks.js';

/** `digest`: see bundleLines (the lines' bytes, hashed as read, for `verifyBundle`'s `linesDigest`). */
export function readLines(
  path: string,
  onBytes?: (n: number) => void,
  digest?: Sha256Hasher,
): AsyncGenerator<string> {
  return bundleLines(fileChunks(path), onBytes, digest);
}
