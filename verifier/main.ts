/**
 * The offline verifier page's script. The same script runs twice: in the page (the UI, reading
 * files and running core's `verifyBundle`) and, from a blob: URL of its own text, in Web Workers
 * that check receipt batches in parallel. Nothing here touches the network; the page's
 * Content-Security-Policy forbids it anyway.
 */
import { serveWorker } from './pool.js';
import { startPage } from './page.js';

if (typeof document === 'undefined') {
  serveWorker(self as unknown as Parameters<typeof serveWorker>[0]);
} else {
  startPage();
}
