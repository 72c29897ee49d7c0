/** Streams a file's bundle lines through core's strict line reader. */
import { createReadStream } from 'node:fs';
import { bundleLines } from '../../core/index.js';

export function readLines(path: string, onBytes?: (n: number) => void): AsyncGenerator<string> {
  return bundleLines(createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>, onBytes);
}
