/** `torgo verify BUNDLE --trust OPERATOR.pub.pem …`: offline verification of an export bundle. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  formatReport,
  importPublicKey,
  inThreadChecker,
  type TrustedKey,
  verifyBundleBytes,
} from '../../core/index.js';
import { CliError, EXIT_INVALID, EXIT_USAGE } from '../errors.js';
import { readText } from '../io.js';
import type { Output } from '../output.js';
import { readLines } from '../verify/lines.js';
import { WorkerPool } from '../verify/pool.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** `--trust FILE` (named after the bundle's origin) or `--trust NAME=FILE` (a witness or co-operator). */
async function trustedKeys(specs: readonly string[], origin: string): Promise<TrustedKey[]> {
  return Promise.all(
    specs.map(async (spec) => {
      const eq = spec.indexOf('=');
      const [name, file] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [origin, spec];
      try {
        return { name, key: importPublicKey(await readText(file, 64 * 1024, 'trusted key')) };
      } catch (e) {
        throw new CliError(`--trust ${spec}: ${(e as Error).message}`, EXIT_USAGE, 'E_KEY_INVALID');
      }
    }),
  );
}

/** Reads just the header's origin, so `--trust FILE` can be named after it. */
async function bundleOrigin(path: string): Promise<string> {
  for await (const line of readLines(path)) {
    try {
      const o = JSON.parse(line) as { type?: string; origin?: unknown };
      if (o.type === 'header' && typeof o.origin === 'string') return o.origin;
    } catch {
      // reported by the full verification
    }
    break;
  }
  throw new CliError(`${path} is not a TORGO bundle (no header line)`, EXIT_USAGE, 'E_BUNDLE_SYNTAX');
}

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
        // Started first: each worker's start-up (a thread, its module graph) overlaps this thread's
        // reading of the keys and the header instead of delaying the first batch.
        const pool = workers === 0 ? undefined : new WorkerPool(workers);
        const trusted = await bundleOrigin(path)
          .then((origin) => trustedKeys(o.trust, origin))
          .catch(async (e: unknown) => {
            await pool?.close();
            throw e;
          });
        const tty = process.stderr.isTTY && !o.json;
        let bytes = 0;
        const started = performance.now();
        const report = await verifyBundleBytes(
          createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>,
          {
            trusted,
            onBytes: (n) => {
              bytes += n;
            },
            threshold,
            allowEmpty: o.allowEmpty === true,
            requireSigned: o.requireSigned === true,
            checker: pool ?? inThreadChecker(),
            parallelism: (pool?.size ?? 1) * 2,
            onProgress: tty
              ? (n) => {
                  const pct = Math.min(100, Math.round((bytes / Math.max(size, 1)) * 100));
                  const rate = Math.round(n / ((performance.now() - started) / 1000));
                  const bar = '#'.repeat(pct >> 2).padEnd(25, '.');
                  process.stderr.write(`\r[${bar}] ${pct}% ${n} receipts, ${rate}/s `);
                }
              : undefined,
          },
        );
        if (tty) process.stderr.write('\n');
        output.out(o.json ? `${JSON.stringify(report)}\n` : formatReport(report));
        if (!report.valid) {
          throw new CliError(
            'bundle is not valid',
            report.unusable ? EXIT_USAGE : EXIT_INVALID,
            report.failures[0]?.code ?? 'E_BUNDLE_SYNTAX',
            true,
          );
        }
      },
    );
}
