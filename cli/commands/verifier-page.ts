/**
 * `torgo verifier-page -o verify.html`: writes the offline browser verifier, one self-contained
 * HTML file (core and noble ML-DSA inlined, a CSP that forbids the network) for a regulator to
 * open from disk. The page is built with the project (`npm run build:verifier`) and copied here.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliError, EXIT_USAGE } from '../errors.js';
import type { Output } from '../output.js';

/** dist/cli/commands/ → dist/web/verify.html (verifier/build.mjs writes it there). */
export const VERIFIER_PAGE = fileURLToPath(new URL('../../web/verify.html', import.meta.url));

export async function verifierPage(): Promise<string> {
  try {
    return await readFile(VERIFIER_PAGE, 'utf8');
  } catch {
    throw new CliError(
      `the verifier page is not built (${VERIFIER_PAGE}): run \`npm run build:verifier\``,
      EXIT_USAGE,
      'E_IO',
    );
  }
}

export function addVerifierPage(program: Command, output: Output): void {
  program
    .command('verifier-page')
    .description('write the offline bundle verifier: one self-contained HTML file that needs no network')
    .requiredOption('-o, --out <file>', 'where to write the page, e.g. verify.html ("-" for stdout)')
    .option('--force', 'overwrite an existing file')
    .action(async (o: { out: string; force?: boolean }) => {
      const html = await verifierPage();
      if (o.out === '-') {
        output.out(html);
        return;
      }
      try {
        await writeFile(o.out, html, { mode: 0o644, flag: o.force ? 'w' : 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST')
          throw new CliError(
            `${o.out} exists; refusing to overwrite it (use --force)`,
            EXIT_USAGE,
            'E_EXISTS',
          );
        throw e;
      }
      output.out(
        `wrote ${o.out} (${html.length.toLocaleString('en')} bytes): open it in a browser, offline, and drop a bundle and the operator key(s) on it\n`,
      );
    });
}
