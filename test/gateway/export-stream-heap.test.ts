import '../engine/quiet-logs.js';
/**
 * `GET /v1/export` streams from ledger to socket in memory bounded whatever the bundle's size and its
 * receipts' size: `torgo serve` runs in a child process with its V8 heap capped (old generation
 * HEAP_CAP_MIB) and exports, once along the source's chain and once by a selection the ledger makes
 * (two passes), a bundle larger than all the heap the server has left above its idle heap — an export
 * that held the bundle, or any part of it growing with the bundle, would die of heap exhaustion (the
 * server's log would not say "export finished"). The export's own thread is capped too (below). ~36 KiB receipts: the ledger reads are sized by
 * bytes, not only by count. A client that goes away mid-export stops the server's reads (its log
 * says so, with fewer receipts than the bundle holds), and what it received fails verification as
 * truncated. Before the fix (main at 62b2488) this failed: the capped server ran out of heap.
 *
 * In `npm test` since 2026-12-02: the ledger is filled in this process (a gateway without the cap,
 * HTTP on loopback), then only the export runs in the capped child; ~25 s at load 5, ~70 s at load 10.
 * The export by operation (no chain covers it: the ledger's selection is read twice, and receipts are
 * batched for their leaves and proofs) is the last step. It once killed the capped server ("Reached
 * heap limit ... JavaScript heap out of memory"; 93f7e57 here, 1 run of 2): nothing grew with the
 * bundle, but each batch held its `.mu` texts as strings (~1 MiB of V8 heap per 512 KiB of `.mu`),
 * a suspended generator still held the previous batch, and the ledger read in flight its page as a
 * string and as parsed rows — ~2.5–3 MiB over the idle heap in a snapshot mid-export, more in
 * flight. Now the ledger's rows stay as the contract's bytes (off the V8 heap) and each text is
 * decoded as its line is written: ~0.65 MiB over idle (docs/performance.md §12).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createReceiptText, newUlid, publicKeyToPem } from '../../core/index.js';
import { startServe } from '../../bench/http.js';
import { benchKey, signTexts } from '../../bench/receipts.js';
import { loadConfig } from '../../gateway/config.js';
import { startGateway } from '../../gateway/server.js';
import { torgo } from '../cli/run.js';
import { call, createToken, tempDir } from './helpers.js';

/**
 * The child's old-generation cap. An embedded `torgo serve` idles at ~41 MiB of heap (mostly its
 * modules' source text and code); the export's working set (a ledger read of ~512 KiB of `.mu`, a
 * batch of leaves and proofs, the lines in flight) adds a few MiB.
 */
const HEAP_CAP_MIB = 56;
const IDLE_HEAP_MIB = 41;
/**
 * The child's young generation, fixed small. V8 refuses to grow the old generation when a scavenge's
 * survivors might not fit below the cap, and Node 24 sizes the young generation to the allocation
 * rate: right after start (the first export begins ~1.4 s into the server's life) it was large enough
 * that a transient of ~12 MiB over the idle heap ended in "Reached heap limit" with 51 MiB live, in
 * 3 of 10 runs at load 2–4 (1 of 6 on main before session 13). With 4 MiB semi-spaces: 0 of 10. The cap
 * still bounds what the export keeps; nothing here holds more or less because of the young generation.
 */
const SEMI_SPACE_MIB = 4;
/**
 * The export's own thread (gateway/logbuilder/export-thread.ts), capped: with the contract loaded to
 * read the ledger it idles at ~24 MiB of heap (its modules), so ~12 MiB is left for what the export holds.
 */
const THREAD_HEAP_CAP_MIB = 36;
const THREAD_IDLE_HEAP_MIB = 24;
/** ~36 KiB receipts (the receipt text limit is 32 KiB, plus one ML-DSA-65 signature). */
const RECEIPTS = 480;
const LINES_PER_RECEIPT = 240;
const BATCH = 20;

/** A receipt whose text is close to the 32 KiB limit. */
function bigReceiptText(i: number): string {
  const line = `Forward vitals batch ${i}: ${'x'.repeat(100)}`;
  return createReceiptText({
    fields: {
      format: 'torgo.receipt/1',
      id: newUlid(),
      source: 'icu-relay-big',
      operation: 'vitals.forward',
      subject: `urn:torgo:subject:${i % 50}`,
      occurredAt: '2026-11-25T13:07:48.123Z',
      payloadDigests: ['sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    },
    sections: [{ name: 'Intent', lines: Array.from({ length: LINES_PER_RECEIPT }, () => line) }],
  });
}

/** GET `route` with a bearer token; the body to `file` (all of it, or until `stopAfter` bytes). */
function download(
  url: string,
  route: string,
  token: string,
  file: string,
  stopAfter = Number.POSITIVE_INFINITY,
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    let cut = false;
    const req = http.get(new URL(route, url), { headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes: 0 }));
        return;
      }
      const out = createWriteStream(file);
      let bytes = 0;
      res.on('data', (d: Buffer) => {
        if (bytes >= stopAfter) return;
        bytes += d.length;
        if (!out.write(d)) res.pause();
        if (bytes >= stopAfter) {
          cut = true;
          out.end(() => resolve({ status: res.statusCode ?? 0, bytes }));
          req.destroy(); // the client goes away mid-export
        }
      });
      out.on('drain', () => res.resume());
      res.on('end', () => out.end(() => resolve({ status: res.statusCode ?? 0, bytes })));
      // Our own destroy() makes the response emit 'aborted': not an error of the export.
      res.on('error', (e) => {
        if (!cut) reject(e);
      });
    });
    req.on('error', (e) => {
      if (!cut) reject(e);
    });
  });
}

/**
 * Fills the ledger at `dir`/data in this process (appending is not what this test is about): a
 * gateway without the cap, its bootstrap admin token written where `startServe` reads it; receipts
 * signed on worker threads and appended in batches, then the gateway is closed.
 */
async function fillLedger(dir: string): Promise<string> {
  const config = loadConfig({
    env: {},
    overrides: { dataDir: path.join(dir, 'data'), port: 0, host: '127.0.0.1', 'log.level': 'silent' },
  });
  const gw = await startGateway(config, {
    log: false,
    bootstrapAdmin: true,
    adminTokenFile: path.join(dir, 'admin.token'),
    notice: () => {},
  });
  try {
    const admin = (await readFile(path.join(dir, 'admin.token'), 'utf8')).trim();
    const token = await createToken(gw.url, admin, 'relay', ['appender']);
    const auditor = await createToken(gw.url, admin, 'auditor', ['auditor']);
    const key = await call(gw.url, 'POST', '/v1/keys', {
      token,
      body: { publicKey: publicKeyToPem(benchKey) },
    });
    assert.equal(key.status, 201, key.text);
    const signed = await signTexts(Array.from({ length: RECEIPTS }, (_, i) => bigReceiptText(i)));
    for (let i = 0; i < RECEIPTS; i += BATCH) {
      const receipts = signed.slice(i, i + BATCH);
      const r = await call(gw.url, 'POST', '/v1/receipts/batch', { token, body: { receipts } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.appended, receipts.length, r.text);
    }
    return auditor;
  } finally {
    await gw.close();
  }
}

describe('GET /v1/export streams (torgo serve in a child process, heap capped)', () => {
  it(`exports a bundle it could not hold under its ${HEAP_CAP_MIB} MiB heap cap; a client gone mid-export stops the reads; a cut bundle fails as truncated`, async (t) => {
    const dir = await tempDir(t, 'torgo-export-stream-');
    const auditor = await fillLedger(dir);

    const logs: Record<string, unknown>[] = [];
    const serve = await startServe(dir, [], {
      env: {
        NODE_OPTIONS: `--max-old-space-size=${HEAP_CAP_MIB} --max-semi-space-size=${SEMI_SPACE_MIB}`,
        TORGO_LOG_EXPORT_THREAD_HEAP_MIB: String(THREAD_HEAP_CAP_MIB),
      },
      onLog: (line) => {
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log line
        }
      },
    });
    const exited = once(serve.child, 'exit');
    t.after(async () => {
      if (serve.child.exitCode === null && serve.child.signalCode === null) serve.child.kill('SIGTERM');
      await exited;
    });
    const { url } = serve;

    const bundle = path.join(dir, 'bundle.jsonl');
    t.diagnostic(`filled ${new Date().toISOString()}`);
    const failed = () => JSON.stringify(logs.filter((l) => (l['level'] as number) >= 40));
    // A new server's log builder may still be catching up with the last blocks: 503 + Retry-After.
    // The server's resident set around the first export, for the diagnostic line (not asserted:
    // V8 sizes its young generation to the allocation rate).
    const rssMiB = () =>
      Number(/VmRSS:\s*(\d+)/.exec(readFileSync(`/proc/${serve.child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    const rssBefore = rssMiB();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssMiB());
    }, 100);
    t.after(() => clearInterval(sampler));
    let full = { status: 503, bytes: 0 };
    for (let i = 0; i < 30 && full.status === 503; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 1000));
      full = await download(url, '/v1/export?source=icu-relay-big', auditor, bundle).catch((e) => {
        throw new Error(`export: ${e}; exit ${serve.child.exitCode}; ${failed()}`);
      });
    }
    clearInterval(sampler);
    t.diagnostic(
      `exported ${(full.bytes / 2 ** 20).toFixed(1)} MiB at ${new Date().toISOString()}; server RSS ${rssBefore.toFixed(0)} MiB before, ${rssPeak.toFixed(0)} MiB peak`,
    );
    assert.equal(full.status, 200, failed());
    // The bundle is larger than the heap left above the idle server (as JavaScript strings its
    // `.mu` texts would take twice as much: their signature lines are not Latin-1).
    assert.ok(
      full.bytes > (HEAP_CAP_MIB - IDLE_HEAP_MIB) * 2 ** 20 &&
        full.bytes > (THREAD_HEAP_CAP_MIB - THREAD_IDLE_HEAP_MIB) * 2 ** 20,
      `the bundle (${(full.bytes / 2 ** 20).toFixed(0)} MiB) could not be held under either heap cap`,
    );
    assert.equal((await stat(bundle)).size, full.bytes);
    const pub = path.join(dir, 'operator.pub.pem');
    await writeFile(pub, (await call(url, 'GET', '/v1/log/operator-key')).text);
    const v = await torgo('verify', bundle, '--trust', pub, '--json');
    assert.equal(v.code, 0, v.stdout.slice(0, 2000) + v.stderr);
    const report = JSON.parse(v.stdout) as { outcome: string; counts: { validReceipts: number } };
    assert.equal(report.outcome, 'valid');
    assert.equal(report.counts.validReceipts, RECEIPTS);
    // The server logs an export when its stream closes, which may come just after the client's end.
    const logged = async (msg: string, count = 1): Promise<Record<string, unknown>[]> => {
      for (let i = 0; i < 600 && logs.filter((l) => l['msg'] === msg).length < count; i++)
        await new Promise((r) => setTimeout(r, 100));
      return logs.filter((l) => l['msg'] === msg);
    };
    const finished = (await logged('export finished'))[0];
    assert.equal(finished?.['receipts'], RECEIPTS, JSON.stringify(finished));

    // A client that reads 4 MiB and goes away: the server stops exporting, far short of the end.
    const cut = path.join(dir, 'cut.jsonl');
    const partial = await download(url, '/v1/export?source=icu-relay-big', auditor, cut, 4 * 2 ** 20);
    assert.equal(partial.status, 200);
    const stopped = (await logged('export stopped: the client went away'))[0];
    assert.ok(stopped, 'the server logs that it stopped');
    assert.ok(
      (stopped['receipts'] as number) < RECEIPTS / 2,
      `stopped after ${stopped['receipts']} of ${RECEIPTS} receipts`,
    );
    assert.equal(
      logs.filter((l) => l['msg'] === 'export finished').length,
      1,
      'only the full export finished',
    );
    assert.equal(serve.child.exitCode, null, 'the capped server is still running');

    const c = await torgo('verify', cut, '--trust', pub, '--json');
    assert.equal(c.code, 1, c.stdout.slice(0, 2000));
    const cutReport = JSON.parse(c.stdout) as { outcome: string; stopped?: { code: string } };
    assert.equal(cutReport.outcome, 'invalid');
    assert.equal(cutReport.stopped?.code, 'E_BUNDLE_TRUNCATED');

    await t.test(
      'the same receipts selected by operation (two ledger passes) under the same cap',
      async () => {
        // The same receipts selected by operation: no chain covers it, so the ledger is read twice (key
        // ids, then receipts with their texts, in batches bounded by bytes).
        const byOperation = path.join(dir, 'by-operation.jsonl');
        const second = await download(url, '/v1/export?operation=vitals.forward', auditor, byOperation);
        assert.equal(second.status, 200, failed());
        assert.ok(second.bytes > (HEAP_CAP_MIB - IDLE_HEAP_MIB) * 2 ** 20);
        const exports = await logged('export finished', 2);
        assert.equal(exports.length, 2, failed());
        assert.equal(exports[1]?.['receipts'], RECEIPTS, JSON.stringify(exports[1]));
      },
    );
  });
});
