/** `torgo ledger check`: verify the embedded ledger on disk (hash chain, state and history vs blocks). */
import path from 'node:path';
import type { Command } from 'commander';
import { isEngineError, verifyLedgerAt } from '../../engine/index.js';
import { CliError, EXIT_INVALID, EXIT_USAGE } from '../errors.js';
import type { Output } from '../output.js';

export function addLedger(program: Command, output: Output): void {
  const ledger = program.command('ledger').description('the embedded ledger on disk');
  ledger
    .command('check')
    .description(
      'verify every block link and that state and history match the blocks (the gateway must be stopped)',
    )
    .option('--data <dir>', 'the gateway data directory', './data')
    .option('--json', 'the report as JSON')
    .action(async (o: { data: string; json?: boolean }) => {
      try {
        const r = await verifyLedgerAt(path.join(o.data, 'ledger'));
        output.out(
          o.json
            ? `${JSON.stringify({ valid: true, ...r })}\n`
            : `ledger OK: ${r.height} blocks, ${r.transactions} transactions (${r.validTransactions} valid), ${r.keys} state keys, ${r.historyEntries} history entries, tip ${r.tipHash}\n`,
        );
      } catch (e) {
        if (!isEngineError(e)) throw e;
        const corrupt = e.code === 'E_CHAIN_CORRUPT';
        if (o.json) output.out(`${JSON.stringify({ valid: false, code: e.code, message: e.message })}\n`);
        throw new CliError(e.message, corrupt ? EXIT_INVALID : EXIT_USAGE, e.code);
      }
    });
}
