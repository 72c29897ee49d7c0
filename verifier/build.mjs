// Builds the offline verifier: ONE self-contained HTML file (dist/web/verify.html) with core,
// noble ML-DSA and the page script inlined, no external resource of any kind. `torgo
// verifier-page -o FILE` copies this file.  Usage: node verifier/build.mjs [outFile]
// (`npm run build` calls buildVerifierPage() through scripts/build-web.mjs, skipping it when up to date).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = path.resolve(here, '..');
export const DEFAULT_OUT = path.join(root, 'dist', 'web', 'verify.html');

/** Builds the page into `outFile`; returns the absolute paths of every file the build read. */
export async function buildVerifierPage(outFile = DEFAULT_OUT) {
  const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  const result = await build({
    entryPoints: [path.join(here, 'main.ts')],
    bundle: true,
    write: false,
    metafile: true,
    absWorkingDir: root,
    platform: 'browser',
    format: 'iife',
    target: ['chrome109', 'firefox115', 'safari16'],
    minify: true,
    legalComments: 'eof',
    charset: 'utf8',
    logLevel: 'warning',
  });
  // Inside <script>, "</script" would end the element and "<!--" changes how it is parsed; both
  // escapes leave the JavaScript meaning unchanged.
  const script = result.outputFiles[0].text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
  const style = await readFile(path.join(here, 'page.css'), 'utf8');
  const html = (await readFile(path.join(here, 'page.html'), 'utf8'))
    .replace('__VERSION__', () => version)
    .replace('/*STYLE*/', () => style)
    .replace('/*SCRIPT*/', () => script);
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, html);
  console.log(
    `verifier page: ${path.relative(process.cwd(), outFile)} (${Math.round(html.length / 1024)} KiB)`,
  );
  return [
    ...Object.keys(result.metafile.inputs).map((f) => path.resolve(root, f)),
    fileURLToPath(import.meta.url),
    path.join(here, 'page.css'),
    path.join(here, 'page.html'),
    path.join(root, 'package.json'),
  ];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildVerifierPage(process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_OUT);
}
