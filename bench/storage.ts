/**
 * What a receipt costs on disk (issue 18): a ledger of N receipts (default 100,000; `--ledger-receipts N`)
 * appended through the contract one receipt per transaction, as a relay sends them, its transparency
 * log built from its blocks as the gateway's log builder does, then `torgo ledger stats`' breakdown:
 * bytes per receipt in each store, LevelDB's files before and after compaction, against the `.mu` size.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storageReport } from '../gateway/ledger/embedded/stats.js';
import { entriesOf } from '../gateway/logbuilder/builder.js';
import { logBlockOf } from '../gateway/logbuilder/sources.js';
import { LogStore } from '../gateway/logbuilder/store.js';
import { drive, openBenchLedger } from './engine.js';
import type { Row, Suite } from './harness.js';
import { signedReceipts } from './receipts.js';

/** Receipts signed and appended per round: bounds the memory the signed texts take. */
const ROUND = 5000;

export const storageSuite: Suite = async ({ smoke, ledgerReceipts, scratch = tmpdir() }) => {
  const total = ledgerReceipts ?? (smoke ? 200 : 100_000);
  const dir = await mkdtemp(join(scratch, 'torgo-bench-storage-'));
  const rows: Row[] = [];
  try {
    const bench = await openBenchLedger({ dir });
    try {
      for (let start = 0; start < total; start += ROUND) {
        const count = Math.min(ROUND, total - start);
        const signed = await signedReceipts(count, (i) => ({
          source: `icu-relay-${String((start + i) % 100).padStart(3, '0')}`,
          subject: `urn:torgo:subject:${((start + i) * 7) % 10_000}`,
        }));
        await drive(count, 64, (i) =>
          bench.ledger.submit(bench.appender, 'appendReceipts', [JSON.stringify([signed[i]])]),
        );
      }
      const log = await LogStore.open(join(dir, 'log', 'tree'));
      try {
        for (let n = 0; n < bench.ledger.height; n++) {
          await log.appendBlock(n, entriesOf(logBlockOf(await bench.ledger.getBlock(n))));
        }
      } finally {
        await log.close();
      }
    } finally {
      await bench.close(true);
    }
    const r = await storageReport(dir, { compact: true });
    const mu = r.muBytes;
    const note = `${r.receipts.toLocaleString('en-US')} receipts of ${mu.toFixed(0)} B (.mu), one per transaction`;
    const perReceipt = (bytes: number) => bytes / Math.max(1, r.receipts);
    for (const c of [...r.ledger.compacted!.classes, ...(r.log?.compacted?.classes ?? [])]) {
      rows.push({
        suite: 'storage',
        name: c.name,
        value: perReceipt(c.diskBytes),
        unit: 'B/receipt on disk',
        note: `${perReceipt(c.keyBytes + c.valueBytes).toFixed(0)} B/receipt stored (keys + values, before Snappy); ${c.entries.toLocaleString('en-US')} entries`,
      });
    }
    const logFiles = r.log?.fileBytes ?? 0;
    const logCompacted = r.log?.compacted?.fileBytes ?? 0;
    const totals: [string, number][] = [
      ['data directory (ledger + log), as written', r.ledger.fileBytes + logFiles],
      ['data directory (ledger + log), compacted', r.ledger.compacted!.fileBytes + logCompacted],
      ['ledger alone, compacted', r.ledger.compacted!.fileBytes],
    ];
    for (const [name, bytes] of totals) {
      rows.push({
        suite: 'storage',
        name: `${name}, × the .mu size`,
        value: perReceipt(bytes) / mu,
        unit: '×',
        limit: { name: 'target', value: 2 },
        note: `${perReceipt(bytes).toFixed(0)} B/receipt; ${note}`,
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
};
