/**
 * The soak's receipt signer (soak.ts): a child process at the lowest CPU priority that signs the
 * clients' receipts a few at a time, all through the run. The soak measures the server's latency;
 * signing ~1 ms per receipt in bursts on the soak's own threads, at the server's priority, showed up
 * as the server's tail on a 2-core machine (docs/performance.md §12). Here the signing is spread out
 * and yields the CPU to the server whenever both want it.
 *
 * Protocol (IPC): the parent sends `SignRequest`s; the child answers each, in order, with
 * `SignedChunk`s of at most CHUNK receipts, the last one marked `done`.
 */
import { setPriority } from 'node:os';
import { parseReceipt, signReceipt } from '../core/index.js';
import { benchKey, type ReceiptShape, receiptText } from './receipts.js';

export interface SignRequest {
  readonly client: number;
  readonly shapes: readonly ReceiptShape[];
}

export interface SignedChunk {
  readonly client: number;
  readonly receipts: readonly string[];
  readonly done: boolean;
}

const CHUNK = 16;

function serve(): void {
  // On Linux this lowers the calling thread, the one that signs (native ML-DSA signs on it).
  setPriority(19);
  const queue: { request: SignRequest; next: number }[] = [];
  let running = false;
  const step = (): void => {
    const head = queue[0];
    if (!head) {
      running = false;
      return;
    }
    const end = Math.min(head.request.shapes.length, head.next + CHUNK);
    const receipts: string[] = [];
    for (let i = head.next; i < end; i++) {
      receipts.push(signReceipt(parseReceipt(receiptText(i, head.request.shapes[i])), benchKey));
    }
    head.next = end;
    const done = end === head.request.shapes.length;
    if (done) queue.shift();
    process.send!({ client: head.request.client, receipts, done } satisfies SignedChunk);
    setImmediate(step); // lets the next request (and the channel) in between chunks
  };
  process.on('message', (request: SignRequest) => {
    queue.push({ request, next: 0 });
    if (!running) {
      running = true;
      setImmediate(step);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.send) serve();
