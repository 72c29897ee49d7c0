/**
 * `torgo verify` starts its worker threads before this thread loads core (cli/commands/verify.ts,
 * docs/performance.md §13): the modules it loads up to its action must hold none of core but its
 * errors, and the worker's own module graph neither the bundle orchestrator nor the ASN.1 schema
 * library (keys reach the worker read, core/crypto/pem.ts).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The modules a fresh Node process loads when it imports `modules`, in order: dist/'s by their paths
 * relative to it, the others by URL.
 */
async function loadedBy(modules: readonly string[]): Promise<string[]> {
  const record =
    'import{registerHooks}from"node:module";globalThis.loaded=[];' +
    'registerHooks({load(url,context,next){globalThis.loaded.push(url);return next(url,context)}});';
  const script =
    `${record}for(const m of ${JSON.stringify(modules.map((m) => pathToFileURL(join(dist, m)).href))})await import(m);` +
    'process.stdout.write(JSON.stringify(globalThis.loaded))';
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  const root = pathToFileURL(dist).href;
  return (JSON.parse(stdout) as string[]).map((u) => (u.startsWith(root) ? u.slice(root.length + 1) : u));
}

describe('torgo verify: what loads before the worker threads start', () => {
  it('the CLI and the verify command load no core module but core/errors.js', async () => {
    const loaded = await loadedBy(['cli/main.js', 'cli/commands/verify.js', 'cli/verify/threads.js']);
    assert.ok(loaded.includes('cli/commands/verify.js'), 'the hook saw the modules');
    assert.deepEqual(
      loaded.filter((m) => m.startsWith('core/')),
      ['core/errors.js'],
    );
  });

  it("the worker's modules hold no part of the bundle orchestrator (core/bundle/verify.js, its other steps) and no @peculiar/asn1 module", async () => {
    // worker.ts imports node:worker_threads and this module only (it needs a parent port to run itself).
    const loaded = await loadedBy(['core/bundle/pool.js']);
    assert.ok(loaded.includes('core/bundle/steps/receipts.js'), 'the hook saw the modules');
    assert.deepEqual(
      loaded.filter(
        (m) =>
          m === 'core/bundle/verify.js' ||
          (m.startsWith('core/bundle/steps/') && m !== 'core/bundle/steps/receipts.js'),
      ),
      [],
    );
    assert.ok(
      loaded.some((m) => m.includes('/node_modules/@noble/')),
      'the hook saw the dependencies',
    );
    assert.deepEqual(
      loaded.filter((m) => m.includes('/node_modules/@peculiar/') || m.endsWith('core/crypto/der.js')),
      [],
    );
  });
});
