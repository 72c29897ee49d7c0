/**
 * `torgo ledger check`: verify the embedded ledger on disk (hash chain, state and history vs blocks).
 * `torgo ledger stats`: where its disk goes, per store and per receipt.
 * `torgo ledger migrate`: convert a ledger of an earlier storage format.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { isEngineError, migrateLedger, verifyLedgerAt } from '../../engine/index.js';
import type { ClassSize, StoreSize } from '../../engine/stats.js';
import { type StorageReport, storageReport } from '../../gateway/ledger/embedded/stats.js';
import { CliError, EXIT_INVALID, EXIT_USAGE } from '../errors.js';
import type { Output } from '../output.js';

/** One `ledger` subcommand: `--data` and `--json`, engine errors as CLI errors (corrupt: exit 1, else 2). */
function subcommand<O extends { data: string; json?: boolean }>(
  ledger: Command,
  name: string,
  description: string,
  run: (o: O) => Promise<void>,
  onError: (o: O, e: { code: string; message: string }) => void = () => {},
): Command {
  return ledger
    .command(name)
    .description(description)
    .option('--data <dir>', 'the gateway data directory', './data')
    .option('--json', 'the report as JSON')
    .action(async (o: O) => {
      try {
        await run(o);
      } catch (e) {
        if (!isEngineError(e)) throw e;
        onError(o, e);
        throw new CliError(e.message, e.code === 'E_CHAIN_CORRUPT' ? EXIT_INVALID : EXIT_USAGE, e.code);
      }
    });
}

export function addLedger(program: Command, output: Output): void {
  const ledger = program.command('ledger').description('the embedded ledger on disk');
  subcommand<{ data: string; json?: boolean }>(
    ledger,
    'check',
    'verify every block link and that state and history match the blocks (the gateway must be stopped)',
    async (o) => {
      const r = await verifyLedgerAt(path.join(o.data, 'ledger'));
      output.out(
        o.json
          ? `${JSON.stringify({ valid: true, ...r })}\n`
          : `ledger OK: ${r.height} blocks, ${r.transactions} transactions (${r.validTransactions} valid), ${r.keys} state keys, ${r.historyEntries} history entries, tip ${r.tipHash}\n`,
      );
    },
    (o, e) => {
      if (o.json) output.out(`${JSON.stringify({ valid: false, code: e.code, message: e.message })}\n`);
    },
  );
  subcommand<{ data: string; json?: boolean }>(
    ledger,
    'migrate',
    'convert a ledger written before storage format 2, checked before it is swapped in (the gateway must be stopped)',
    async (o) => {
      const r = await migrateLedger(path.join(o.data, 'ledger'));
      output.out(
        o.json
          ? `${JSON.stringify(r)}\n`
          : r.kept
            ? `ledger converted from format ${r.from}: ${r.blocks} blocks, ${r.keys} state keys, checked; the old ledger is kept in ${r.kept} (delete it once you are satisfied)\n`
            : `ledger is already in format ${r.from}: nothing to do\n`,
      );
    },
  );
  subcommand<{ data: string; json?: boolean; compact?: boolean }>(
    ledger,
    'stats',
    'bytes per receipt in each store of the embedded ledger and its log (the gateway must be stopped)',
    async (o) => {
      const report = await storageReport(o.data, { compact: Boolean(o.compact) });
      output.out(o.json ? `${JSON.stringify(report)}\n` : formatStats(report));
    },
  ).option('--compact', 'also measure after compacting both stores (rewrites them; safe, may take minutes)');
}

/** The report as a table: one line per class, bytes per receipt as stored and as LevelDB estimates on disk. */
function formatStats(r: StorageReport): string {
  const per = (bytes: number) => (r.receipts === 0 ? '-' : (bytes / r.receipts).toFixed(0));
  const lines = [
    `${r.receipts} receipts, .mu ${r.muBytes.toFixed(0)} bytes on average`,
    `${'store'.padEnd(28)} ${'entries'.padStart(10)} ${'stored B/receipt'.padStart(17)} ${'disk B/receipt'.padStart(15)}`,
  ];
  const rows = (classes: readonly ClassSize[]) => {
    for (const c of classes) {
      lines.push(
        `${c.name.padEnd(28)} ${String(c.entries).padStart(10)} ${per(c.keyBytes + c.valueBytes).padStart(17)} ${per(c.diskBytes).padStart(15)}`,
      );
    }
  };
  const total = (what: string, s: StoreSize) => {
    const ratio = (bytes: number) =>
      r.receipts === 0 || r.muBytes === 0 ? '' : ` (${(bytes / r.receipts / r.muBytes).toFixed(2)}× the .mu)`;
    lines.push(`${what} files: ${per(s.fileBytes)} B/receipt${ratio(s.fileBytes)}`);
    if (s.compacted) {
      lines.push(
        `${what} files after compaction: ${per(s.compacted.fileBytes)} B/receipt${ratio(s.compacted.fileBytes)}`,
      );
    }
  };
  rows(r.ledger.compacted?.classes ?? r.ledger.classes);
  if (r.log) rows(r.log.compacted?.classes ?? r.log.classes);
  total('ledger', r.ledger);
  if (r.log) total('log', r.log);
  const all = (what: string, bytes: number) =>
    lines.push(
      `${what}: ${per(bytes)} B/receipt${r.muBytes ? ` (${(bytes / Math.max(1, r.receipts) / r.muBytes).toFixed(2)}× the .mu)` : ''}`,
    );
  all('all', r.ledger.fileBytes + (r.log?.fileBytes ?? 0));
  if (r.ledger.compacted) {
    all('all after compaction', r.ledger.compacted.fileBytes + (r.log?.compacted?.fileBytes ?? 0));
  }
  return `${lines.join('\n')}\n`;
}
