// Up-to-date checks for the web builds (scripts/build-web.mjs). A build records, next to its output,
// the files it read — as its bundler reports them (vite's module graph, esbuild's metafile), plus its
// config, its build script and the package manifests — and a digest of them. The output is up to date
// when every output file exists and the digest of those same files is unchanged. The digest covers each
// file's content and the entry names of every directory holding one, so a file added beside an input
// (which could change how an import resolves) makes the build stale too.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const STAMP_VERSION = 1;

/** The digest of `files` (absolute paths) and of their directories' listings. */
export async function inputsDigest(files) {
  const sorted = [...new Set(files.map((f) => path.resolve(f)))].sort();
  const h = createHash('sha256');
  h.update(`torgo-build-stamp ${STAMP_VERSION}\n`);
  for (const file of sorted) {
    let content;
    try {
      content = await readFile(file);
    } catch {
      content = undefined; // a deleted input: the digest changes
    }
    const digest = content === undefined ? 'missing' : createHash('sha256').update(content).digest('hex');
    h.update(`file ${file}\0${digest}\n`);
  }
  for (const dir of [...new Set(sorted.map((f) => path.dirname(f)))].sort()) {
    let names = [];
    try {
      names = (await readdir(dir)).sort();
    } catch {
      names = ['<missing>'];
    }
    h.update(`dir ${dir}\0${names.join('\0')}\n`);
  }
  return h.digest('hex');
}

/** Whether the outputs recorded in `stampFile` exist and its inputs still have the recorded digest. */
export async function isUpToDate(stampFile) {
  let stamp;
  try {
    stamp = JSON.parse(await readFile(stampFile, 'utf8'));
  } catch {
    return false;
  }
  if (stamp?.version !== STAMP_VERSION || !Array.isArray(stamp.inputs) || !Array.isArray(stamp.outputs))
    return false;
  if (stamp.inputs.length === 0 || !stamp.outputs.every((f) => existsSync(f))) return false;
  return (await inputsDigest(stamp.inputs)) === stamp.digest;
}

/** Records what a build that just succeeded read and wrote. */
export async function writeStamp(stampFile, inputs, outputs) {
  const files = [...new Set(inputs.map((f) => path.resolve(f)))].sort();
  const stamp = { version: STAMP_VERSION, inputs: files, outputs, digest: await inputsDigest(files) };
  await mkdir(path.dirname(stampFile), { recursive: true });
  await writeFile(stampFile, `${JSON.stringify(stamp, null, 1)}\n`);
}
