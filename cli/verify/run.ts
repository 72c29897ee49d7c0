/**
 * `torgo verify`'s run, once the command line is read: the trusted keys, then the bundle verified
 * from its bytes on the given worker threads (or in this thread), the report printed. Loaded by
 * cli/commands/verify.ts after it started the threads (this module loads core).
 */
import {
  formatReport,
  importPublicKey,
  inThreadChecker,
  type TrustedKey,
  verifyBundleBytes,
} from '../../core/index.js';
import type { CheckWorker } from '../../core/bundle/pool.js';
import { CliError, EXIT_INVALID, EXIT_USAGE } from '../errors.js';
import { readText } from '../io.js';
import type { Output } from '../output.js';
import { fileChunks } from './chunks.js';
import { readLines } from './lines.js';
import { WorkerPool } from './pool.js';

export interface VerifyRun {
  readonly path: string;
  /** The file's size in bytes (progress). */
  readonly size: number;
  readonly trust: readonly string[];
  readonly threshold: number;
  readonly json: boolean;
  readonly allowEmpty: boolean;
  readonly requireSigned: boolean;
}

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

/**
 * Verifies `o.path` with `threads` (started by the caller; undefined: in this thread) and prints the
 * report; throws the CliError of an invalid bundle. The threads are stopped whatever happens.
 */
export async function runVerify(
  o: VerifyRun,
  threads: readonly CheckWorker[] | undefined,
  output: Output,
): Promise<void> {
  const pool = threads && new WorkerPool(threads);
  const trusted = await bundleOrigin(o.path)
    .then((origin) => trustedKeys(o.trust, origin))
    .catch(async (e: unknown) => {
      await pool?.close();
      throw e;
    });
  const tty = process.stderr.isTTY && !o.json;
  let bytes = 0;
  const started = performance.now();
  const report = await verifyBundleBytes(fileChunks(o.path), {
    trusted,
    onBytes: (n) => {
      bytes += n;
    },
    threshold: o.threshold,
    allowEmpty: o.allowEmpty,
    requireSigned: o.requireSigned,
    checker: pool ?? inThreadChecker(),
    parallelism: (pool?.size ?? 1) * 2,
    onProgress: tty
      ? (n) => {
          const pct = Math.min(100, Math.round((bytes / Math.max(o.size, 1)) * 100));
          const rate = Math.round(n / ((performance.now() - started) / 1000));
          const bar = '#'.repeat(pct >> 2).padEnd(25, '.');
          process.stderr.write(`\r[${bar}] ${pct}% ${n} receipts, ${rate}/s `);
        }
      : undefined,
  });
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
}
