/** A verification worker: checks batches of receipt lines with the pure core function. */
import { parentPort } from 'node:worker_threads';
import { checkReceiptLine, type ReceiptCheckContext, type ReceiptLine } from '../../core/index.js';
import { preferNativeMlDsa } from '../../core/crypto/native.js';

preferNativeMlDsa();
const contexts = new Map<number, ReceiptCheckContext>();

parentPort!.on(
  'message',
  (m: {
    context?: { id: number; value: ReceiptCheckContext };
    batch?: number;
    contextId?: number;
    jobs?: { line: number; receipt: ReceiptLine }[];
  }) => {
    if (m.context) {
      contexts.set(m.context.id, m.context.value);
      return;
    }
    const context = contexts.get(m.contextId!)!;
    const results = m.jobs!.map((j) => checkReceiptLine(j.line, j.receipt, context));
    parentPort!.postMessage({ batch: m.batch, results });
  },
);
