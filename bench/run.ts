/**
 * npm run bench [-- --smoke] [-- --only SUITE,…]: runs the suites, prints the table and writes
 * bench/results/latest.{md,json} (and a dated copy).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { preferNativeMlDsa } from '../core/crypto/native.js';
import { cryptoSuite } from './crypto.js';
import { engineSuite } from './engine.js';
import { environment, type Row, type Suite, writeResults } from './harness.js';
import { httpSuite } from './http.js';

export const SUITES: Record<string, Suite> = {
  'ml-dsa': cryptoSuite,
  embedded: engineSuite,
  http: httpSuite,
};

export async function runBenchmarks(options: {
  smoke: boolean;
  only?: string[];
  resultsDir: string;
}): Promise<string> {
  preferNativeMlDsa();
  const rows: Row[] = [];
  for (const [name, suite] of Object.entries(SUITES)) {
    if (options.only && !options.only.includes(name)) continue;
    process.stderr.write(`bench: ${name}…\n`);
    rows.push(...(await suite({ smoke: options.smoke })));
  }
  return writeResults(options.resultsDir, { ...environment(), mode: options.smoke ? 'smoke' : 'full' }, rows);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { smoke: { type: 'boolean' }, only: { type: 'string' } } });
  const md = await runBenchmarks({
    smoke: Boolean(values.smoke),
    ...(values.only ? { only: values.only.split(',') } : {}),
    resultsDir: join(import.meta.dirname, '..', '..', 'bench', 'results'),
  });
  process.stdout.write(md);
}
