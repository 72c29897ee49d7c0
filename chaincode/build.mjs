// Bundles the tsc output of the chaincode (dist/chaincode/, decorator metadata included) and the
// parts of core it uses into one CommonJS file a Fabric peer can run: chaincode/dist/index.cjs
// next to a copy of chaincode/package.json and its lockfile. fabric-contract-api and fabric-shim
// stay external: the chaincode's own `npm install` provides them (on a peer, or for CCaaS).
// Usage: node chaincode/build.mjs [outDir]   (run `tsc -p chaincode/tsconfig.json` first)
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = path.resolve(process.argv[2] ?? path.join(root, 'chaincode', 'dist'));

await mkdir(outDir, { recursive: true });
await build({
  entryPoints: [path.join(root, 'dist', 'chaincode', 'index.js')],
  outfile: path.join(outDir, 'index.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  // Fabric 2.5's stock Node chaincode image runs Node 18.
  target: 'node18',
  external: ['fabric-contract-api', 'fabric-shim'],
  // One file, so no verification worker file beside it: core's verify pool sees no URL and
  // verifies in-thread (core/crypto/verify-pool.ts).
  define: { 'import.meta.url': 'undefined' },
  // Function and parameter names stay as written: fabric-contract-api reads them.
  minify: false,
  keepNames: true,
  legalComments: 'inline',
  logLevel: 'warning',
});
for (const file of ['package.json', 'package-lock.json']) {
  await copyFile(path.join(root, 'chaincode', file), path.join(outDir, file));
}
console.log(`chaincode bundle: ${path.relative(process.cwd(), path.join(outDir, 'index.cjs'))}`);
