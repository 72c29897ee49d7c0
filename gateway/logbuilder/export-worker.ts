/**
 * The thread exports run on (export-thread.ts starts it and says why): a bundle export is `exportBundle`
 * over a reader of the log store and a reader of the embedded ledger, a CSV export `csvChunks` of the
 * same ledger reader's pages, both opened here on the databases the gateway's thread writes. Each
 * export's chunks go back as they are made, at most its credit ahead of the gateway's thread taking
 * them, so a slow client holds its export, and through it every read.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ExportStatement } from '../../core/index.js';
import { csvChunks, SummaryPages } from '../http/csv.js';
import { AuditLedger } from '../ledger/audit.js';
import { EmbeddedReaderDriver } from '../ledger/embedded/reader.js';
import { exportedReceipt, selectAll } from '../ledger/selection.js';
import type { WalletIdentity } from '../ledger/wallet.js';
import { Slicer } from '../slicer.js';
import { type ExportSummary, exportBundle, inChunks } from './export.js';
import type { CsvJob, ExportJob, FromThread, ThreadJob, ThreadSetup, ToThread } from './export-thread.js';
import { LogStore } from './store.js';

const port = parentPort;
if (!port) throw new Error('export-worker.ts runs as a worker thread');
const setup: ThreadSetup = workerData;
const send = (m: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

/** An export under way here: its credit, and what it waits for. */
interface Export {
  credit: number;
  stopped: boolean;
  wakeOnCredit: (() => void) | undefined;
  signed: { resolve(note: string): void; reject(e: Error): void } | undefined;
}
const exports = new Map<number, Export>();

/**
 * The ledger, opened when the gateway starts the thread (`open`) or with the first export (a failure
 * to open fails that export; the next tries again).
 */
let ledger: Promise<AuditLedger> | undefined;
function openLedger(): Promise<AuditLedger> {
  ledger ??= EmbeddedReaderDriver.open(setup.ledgerDir).then(
    (driver) => new AuditLedger(driver),
    (e: unknown) => {
      ledger = undefined;
      throw e;
    },
  );
  return ledger;
}

port.on('message', (m: ToThread) => {
  if (m.t === 'open') {
    openLedger().then(
      () => send({ t: 'opened' }),
      (e: unknown) => send({ t: 'opened', error: e instanceof Error ? e.message : String(e) }),
    );
    return;
  }
  if (m.t === 'start') {
    const e: Export = { credit: m.credit, stopped: false, wakeOnCredit: undefined, signed: undefined };
    exports.set(m.id, e);
    void run(m.id, m.job, e).finally(() => exports.delete(m.id));
    return;
  }
  const e = exports.get(m.id);
  if (!e) return;
  if (m.t === 'more') e.credit++;
  else if (m.t === 'stop') e.stopped = true;
  else if ('error' in m) e.signed?.reject(new Error(m.error));
  else e.signed?.resolve(m.note);
  if (m.t !== 'signed') {
    e.wakeOnCredit?.();
    e.wakeOnCredit = undefined;
  }
});

/** Room for one more chunk; false once the gateway's thread stopped the export (its client went away). */
async function room(e: Export): Promise<boolean> {
  while (e.credit === 0 && !e.stopped) await new Promise<void>((wake) => (e.wakeOnCredit = wake));
  e.credit--;
  return !e.stopped;
}

async function run(id: number, job: ThreadJob, e: Export): Promise<void> {
  const summary: ExportSummary = { keys: 0, receipts: 0, skipped: 0 };
  try {
    const chunks = job.kind === 'csv' ? csvExport(job, summary) : bundleExport(id, job, e, summary);
    for await (const chunk of chunks) {
      if (!(await room(e))) {
        send({ t: 'ended', id });
        return;
      }
      // Its own memory, moved to the gateway's thread: a chunk may be a view of a slab still being written.
      const out = new Uint8Array(chunk.length);
      out.set(chunk);
      send({ t: 'chunk', id, chunk: out, summary }, [out.buffer]);
    }
    send({ t: 'done', id, summary });
  } catch (err) {
    send({ t: 'fail', id, message: err instanceof Error ? err.message : String(err), summary });
  }
}

/** The contract reads with the caller's certificate; no key is needed to evaluate. */
function reader(job: ThreadJob): WalletIdentity {
  return { ...job.identity, privateKey: '' };
}

/** A bundle's chunks; its statement is signed on the gateway's thread. */
async function* bundleExport(id: number, job: ExportJob, e: Export, summary: ExportSummary) {
  const audit = await openLedger();
  const store = await LogStore.openReader(setup.logTree, job.checkpoint.checkpoint.size);
  try {
    const who = reader(job);
    const lines = exportBundle(
      {
        store,
        checkpointer: {
          issue: () => Promise.reject(new Error('an export thread is given its checkpoint')),
          signStatement: (statement: ExportStatement) =>
            new Promise<string>((resolve, reject) => {
              e.signed = { resolve, reject };
              send({ t: 'sign', id, statement });
            }),
        },
        receipts: async function* () {
          for await (const r of selectAll(audit, who, job.selection)) yield exportedReceipt(r);
        },
        readText: async (receiptId) => (await audit.getReceiptJson(who, receiptId)).value('mu'),
        filters: job.filters,
        origin: job.origin,
        checkpoint: job.checkpoint,
        // Exports here take turns at each read; none waits for appends.
        sliceMs: Number.POSITIVE_INFINITY,
      },
      summary,
    );
    yield* inChunks(lines);
  } finally {
    await store.close();
  }
}

/** A CSV export's chunks; `summary.receipts` counts the rows written so far. */
async function* csvExport(job: CsvJob, summary: ExportSummary) {
  const pages = new SummaryPages(await openLedger(), reader(job), job.selection, job.bookmark, job.max);
  // No appends share this thread: nothing to pace for.
  for await (const chunk of csvChunks(pages.rows(), new Slicer(Number.POSITIVE_INFINITY))) {
    summary.receipts = pages.sent;
    yield chunk;
  }
  summary.receipts = pages.sent;
}
