/** Streams a file's LF-terminated lines, decoding UTF-8 strictly and bounding line length. */
import { createReadStream } from 'node:fs';
import { CoreError, MAX_BUNDLE_LINE_BYTES } from '../../core/index.js';

export async function* readLines(path: string, onBytes?: (n: number) => void): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let lineNo = 0;
  const decode = (bytes: Buffer): string => {
    lineNo++;
    try {
      return decoder.decode(bytes);
    } catch {
      throw new CoreError('E_BUNDLE_SYNTAX', `line ${lineNo}: not valid UTF-8`);
    }
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    onBytes?.(chunk.length);
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      const part = chunk.subarray(start, nl);
      const line = pendingLength ? Buffer.concat([...pending, part]) : part;
      pending = [];
      pendingLength = 0;
      yield decode(line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingLength += chunk.length - start;
      if (pendingLength > MAX_BUNDLE_LINE_BYTES) {
        throw new CoreError(
          'E_BUNDLE_SYNTAX',
          `line ${lineNo + 1}: longer than ${MAX_BUNDLE_LINE_BYTES} bytes`,
        );
      }
    }
  }
  if (pendingLength)
    throw new CoreError(
      'E_BUNDLE_SYNTAX',
      `line ${lineNo + 1}: the bundle does not end with a line feed (truncated?)`,
    );
}
