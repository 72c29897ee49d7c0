/**
 * The web builds' up-to-date check (scripts/build-stamp.mjs): unchanged inputs skip the build, and any
 * change that could change the output — an input's content, a file appearing beside an input, an input
 * or output gone, a damaged stamp — makes it run.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface BuildStamp {
  inputsDigest(files: string[]): Promise<string>;
  isUpToDate(stampFile: string): Promise<boolean>;
  writeStamp(stampFile: string, inputs: string[], outputs: string[]): Promise<void>;
}
const root = fileURLToPath(new URL('../../..', import.meta.url));
const { isUpToDate, writeStamp } = (await import(
  pathToFileURL(path.join(root, 'scripts', 'build-stamp.mjs')).href
)) as BuildStamp;

test('a build is up to date exactly while its recorded inputs and outputs are unchanged', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'torgo-stamp-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const src = (name: string): string => path.join(dir, 'src', name);
  const out = path.join(dir, 'out.html');
  const stamp = path.join(dir, 'stamps', 'page.json');
  await mkdir(path.join(dir, 'src'));
  await writeFile(src('a.ts'), 'export const a = 1;\n');
  await writeFile(src('b.ts'), 'export const b = 2;\n');
  await writeFile(out, '<html>');

  assert.equal(await isUpToDate(stamp), false, 'no stamp: build');
  const record = () => writeStamp(stamp, [src('a.ts'), src('b.ts')], [out]);
  await record();
  assert.equal(await isUpToDate(stamp), true);

  const later = new Date(Date.now() + 60_000);
  await utimes(src('a.ts'), later, later);
  assert.equal(await isUpToDate(stamp), true, 'a newer mtime with the same content changes nothing');

  await writeFile(src('a.ts'), 'export const a = 3;\n');
  assert.equal(await isUpToDate(stamp), false, 'an input changed');
  await record();
  assert.equal(await isUpToDate(stamp), true);

  await writeFile(src('a.js'), 'export const a = 4;\n');
  assert.equal(await isUpToDate(stamp), false, 'a file beside an input (an import may now resolve to it)');
  await rm(src('a.js'));
  assert.equal(await isUpToDate(stamp), true);

  await rm(src('b.ts'));
  assert.equal(await isUpToDate(stamp), false, 'an input deleted');
  await writeFile(src('b.ts'), 'export const b = 2;\n');
  assert.equal(await isUpToDate(stamp), true);

  await rm(out);
  assert.equal(await isUpToDate(stamp), false, 'the output deleted');
  await writeFile(out, '<html>');
  assert.equal(await isUpToDate(stamp), true);

  await writeFile(stamp, '{"version":1,');
  assert.equal(await isUpToDate(stamp), false, 'a damaged stamp');
  await writeStamp(stamp, [], [out]);
  assert.equal(await isUpToDate(stamp), false, 'a stamp that recorded no inputs proves nothing');
});
