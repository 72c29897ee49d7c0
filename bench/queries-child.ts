/**
 * The query suite in a process of its own, started by bench/queries.ts with `torgo serve`'s default V8
 * flags: runs the suite with the options given as JSON (argv[2]) and prints its rows, as JSON, as the
 * last line of stdout (progress goes to stderr).
 */
import './quiet-logs.js';
import type { BenchOptions } from './harness.js';
import { queryRows } from './queries.js';

const options = JSON.parse(process.argv[2] ?? '{}') as BenchOptions;
process.stdout.write(`\n${JSON.stringify(await queryRows(options))}\n`);
