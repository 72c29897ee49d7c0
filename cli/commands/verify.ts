/**
 * `torgo verify BUNDLE --trust OPERATOR.pub.pem …`: offline verification of an export bundle. This
 * module loads no core: the action starts the worker threads first and only then loads the run
 * (cli/verify/run.ts, core with it), so each thread's start-up overlaps this thread's (§13 of
 * docs/performance.md).
 */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError, EXIT_USAGE } from '../errors.js';
import type { Output } from '../output.js';
import { startCheckWorkers } from '../verify/threads.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function addVerifyCommand(program: Command, output: Output): void {
  program
    .command('verify')
    .description('verify an export bundle offline: checkpoint, proofs, receipts, signatures, key validity')
    .argument('<bundle>', 'bundle file (torgo.bundle/2; torgo.bundle/1 is read as an unsigned export)')
    .requiredOption(
      '--trust <file>',
      'trusted log operator public key: FILE or NAME=FILE (repeatable)',
      collect,
      [],
    )
    .option('--threshold <n>', 'how many trusted checkpoint signatures are required', '1')
    .option('--workers <n>', 'verification threads (default: all cores; 0 = in this thread)')
    .option(
      '--allow-empty',
      'a bundle without receipts ("nothing to verify") exits 0 instead of 1 (a window proven empty is valid anyway)',
    )
    .option('--require-signed', 'refuse an unsigned (torgo.bundle/1) export instead of warning')
    .option('--json', 'print the report as JSON')
    .action(
      async (
        path: string,
        o: {
          trust: string[];
          threshold: string;
          workers?: string;
          json?: boolean;
          allowEmpty?: boolean;
          requireSigned?: boolean;
        },
      ) => {
        if (o.trust.length === 0) throw new CliError('give at least one trusted key with --trust');
        const threshold = Number(o.threshold);
        if (!Number.isSafeInteger(threshold) || threshold < 1)
          throw new CliError('--threshold must be a positive integer');
        const size = (
          await stat(path).catch((e: Error) => {
            throw new CliError(`cannot read ${path}: ${e.message}`, EXIT_USAGE, 'E_IO');
          })
        ).size;
        const workers = o.workers === undefined ? undefined : Number(o.workers);
        const threads = workers === 0 ? undefined : startCheckWorkers(workers);
        let run: typeof import('../verify/run.js');
        try {
          run = await import('../verify/run.js');
        } catch (e) {
          await Promise.all(threads?.map((t) => t.terminate()) ?? []);
          throw e;
        }
        await run.runVerify(
          {
            path,
            size,
            trust: o.trust,
            threshold,
            json: o.json === true,
            allowEmpty: o.allowEmpty === true,
            requireSigned: o.requireSigned === true,
          },
          threads,
          output,
        );
      },
    );
}
