// `npm run build:web` (and so `npm run build`, `npm start`, `npm test`): type-check console/ and
// verifier/ (tsc build mode: skipped when nothing changed), then build the auditor console (vite) and
// the offline verifier page (esbuild) — each only when scripts/build-stamp.mjs says its output is not up
// to date. `--force` rebuilds both.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isUpToDate, writeStamp } from './build-stamp.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const force = process.argv.includes('--force');
const STAMPS = path.join(root, 'dist', '.build-stamps');
const CONSOLE_OUT = path.join(root, 'dist', 'web', 'console');
const require = createRequire(import.meta.url);

// Type errors fail the build; tsc's own up-to-date check makes this ~0.5 s when nothing changed.
execFileSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-b', 'console/tsconfig.json', 'verifier/tsconfig.json'],
  { cwd: root, stdio: 'inherit' },
);

/** The vite build of console/, collecting every module id it read that is a file. */
async function buildConsole() {
  const { build } = await import('vite');
  const read = new Set();
  await build({
    configFile: path.join(root, 'console', 'vite.config.ts'),
    plugins: [
      {
        name: 'torgo-build-inputs',
        generateBundle() {
          for (const id of this.getModuleIds()) {
            const file = id.split('?')[0];
            if (!id.startsWith('\0') && path.isAbsolute(file)) read.add(file);
          }
        },
      },
    ],
  });
  if (read.size === 0) throw new Error('vite reported no inputs: cannot record an up-to-date stamp');
  console.log(`console: ${path.relative(process.cwd(), CONSOLE_OUT)}/ (${read.size} modules)`);
  return [
    ...read,
    path.join(root, 'console', 'index.html'),
    path.join(root, 'console', 'vite.config.ts'),
    fileURLToPath(import.meta.url),
  ];
}

const builds = [
  {
    name: 'console',
    stamp: path.join(STAMPS, 'console.json'),
    outputs: [path.join(CONSOLE_OUT, 'index.html')],
    run: buildConsole,
  },
  {
    name: 'verifier page',
    stamp: path.join(STAMPS, 'verifier.json'),
    outputs: [path.join(root, 'dist', 'web', 'verify.html')],
    run: async () => {
      const { buildVerifierPage } = await import('../verifier/build.mjs');
      return [...(await buildVerifierPage()), fileURLToPath(import.meta.url)];
    },
  },
];

for (const b of builds) {
  if (!force && (await isUpToDate(b.stamp))) {
    console.log(`${b.name}: up to date`);
    continue;
  }
  const inputs = await b.run();
  // Shared inputs of both: the lockfile fixes the bundled packages' versions.
  await writeStamp(b.stamp, [...inputs, path.join(root, 'package-lock.json')], b.outputs);
}
