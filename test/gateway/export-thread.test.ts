/**
 * Bundle exports on a thread of their own (gateway/logbuilder/export-thread.ts), on a real embedded
 * gateway: the thread opens the ledger and the log itself (the databases are shared between the
 * process's threads) and, for a whole chain, a chain window, a chain with links and a selection no
 * chain covers, makes the lines the gateway's thread makes (only the header's time and the
 * statement over it differ); both verify offline and the summaries agree. A caller the ledger
 * refuses fails that export alone, as the ledger refused it, and the next export is whole. A client
 * that stops reading stops the thread, and a running export's thread ends when the gateway closes.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { type BundleReport, importPublicKey, verifyBundle } from '../../core/index.js';
import type { IssuedCheckpoint } from '../../gateway/logbuilder/checkpointer.js';
import type { ExportSummary } from '../../gateway/logbuilder/export.js';
import { loadConfig } from '../../gateway/config.js';
import { ExportThread } from '../../gateway/logbuilder/export-thread.js';
import type { TransparencyLog } from '../../gateway/logbuilder/log.js';
import { csvChunks, SummaryPages } from '../../gateway/http/csv.js';
import { exportedReceipt, readSelection, type Selection, selectAll } from '../../gateway/ledger/selection.js';
import type { WalletIdentity } from '../../gateway/ledger/wallet.js';
import { call, type ReceiptSpec, receipt, service, startTestGateway, tempDir } from './helpers.js';

const A = 'icu-relay-a';
const B = 'icu-relay-b';
const RECEIPTS = 36;

async function ledgerOfReceipts(t: TestContext) {
  const { gw, url, admin, dir } = await startTestGateway(t);
  const { token, key } = await service(url, admin);
  for (let i = 0; i < RECEIPTS; i++) {
    const mu = receipt([key], {
      source: i % 2 ? A : B,
      subject: `urn:torgo:subject:${i % 3}`,
      operation: i % 5 ? 'vitals.forward' : 'vitals.ack',
    });
    const r = await call(url, 'POST', '/v1/receipts', { token, raw: mu });
    assert.equal(r.status, 201, r.text);
  }
  const s = gw.service;
  assert.ok(s.log && s.issueIdentity, 'the embedded gateway runs its log and issues identities');
  // The ledger is read as an auditor reads it (the route reads as its caller).
  const auditor = await s.issueIdentity({ name: 'export-auditor', roles: ['auditor'] });
  const height = await s.currentHeight();
  await s.log.coverHeight(height);
  return { gw, log: s.log, ledger: s.ledger, dir, height, auditor };
}

type Setting = Awaited<ReturnType<typeof ledgerOfReceipts>>;

const C = 'icu-relay-c';

/** 250 more receipts of source C (five batches of 50) by a new service, `bulk`: its token (appender, auditor). */
async function appendBulk(s: Setting, fields: (n: number) => ReceiptSpec = () => ({})): Promise<string> {
  const { token, key } = await service(s.gw.url, s.gw.adminToken ?? '', 'bulk');
  for (let i = 0; i < 5; i++) {
    const receipts = Array.from({ length: 50 }, (_, j) =>
      receipt([key], { source: C, ...fields(i * 50 + j) }),
    );
    const r = await call(s.gw.url, 'POST', '/v1/receipts/batch', { token, body: { receipts } });
    assert.equal(r.status, 200, r.text);
  }
  return token;
}
const filtersOf = ({ order: _, ...f }: Selection) => f as Record<string, string>;

/** The export made on the gateway's thread, or on a thread of its own (`as`: who reads the ledger). */
function exportStream(
  s: Setting,
  selection: Selection,
  checkpoint: IssuedCheckpoint,
  where: 'here' | 'thread',
  summary: ExportSummary,
  as: Omit<WalletIdentity, 'privateKey'> = s.auditor,
) {
  const receipts =
    where === 'thread'
      ? { thread: { identity: as, selection } }
      : {
          receipts: async function* () {
            for await (const r of selectAll(s.ledger, s.auditor, selection)) yield exportedReceipt(r);
          },
          readText: async (id: string) => (await s.ledger.getReceiptJson(s.auditor, id)).value('mu'),
        };
  return s.log.exportStream(s.height, receipts, filtersOf(selection), summary, checkpoint);
}

async function bundle(
  s: Setting,
  selection: Selection,
  checkpoint: IssuedCheckpoint,
  where: 'here' | 'thread',
  as?: Omit<WalletIdentity, 'privateKey'>,
): Promise<{ lines: string[]; summary: ExportSummary }> {
  const summary: ExportSummary = { keys: 0, receipts: 0, skipped: 0 };
  let text = '';
  for await (const chunk of exportStream(s, selection, checkpoint, where, summary, as)) text += chunk;
  return { lines: text.trimEnd().split('\n'), summary };
}

async function verified(lines: readonly string[], log: TransparencyLog): Promise<BundleReport> {
  return verifyBundle(
    (async function* () {
      yield* lines;
    })(),
    { trusted: [{ name: log.origin, key: importPublicKey(log.operatorPublicKeyPem) }] },
  );
}

/** Threads of this process now. */
const threads = () => readdirSync('/proc/self/task').length;

async function threadsBackTo(idle: number): Promise<number> {
  for (let i = 0; i < 200 && threads() > idle; i++) await new Promise((r) => setTimeout(r, 25));
  return threads();
}

describe('bundle exports on their own thread', () => {
  it("make the gateway thread's lines for a chain, a window, links and a selection; both verify", async (t) => {
    const s = await ledgerOfReceipts(t);
    const checkpoint = await s.log.checkpointer.issue();
    const cases: [string, Selection][] = [
      ['whole chain', { source: A, order: 'asc' }],
      ['chain with links', { source: B, subject: 'urn:torgo:subject:1', order: 'asc' }],
      ['a selection no chain covers', { operation: 'vitals.ack', order: 'asc' }],
    ];
    // A window: from the fourth receipt of A's chain to its ninth.
    const times = (await bundle(s, cases[0]![1], checkpoint, 'here')).lines
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'receipt')
      .map((l) => l.entry.committedAt as string);
    assert.equal(times.length, RECEIPTS / 2);
    cases.push(['chain window', { source: A, from: times[3], to: times[8], order: 'asc' }]);
    const summaries: ExportSummary[] = [];
    for (const [name, selection] of cases) {
      const theirs = await bundle(s, selection, checkpoint, 'here');
      const mine = await bundle(s, selection, checkpoint, 'thread');
      assert.ok(mine.lines.length > 4, name);
      assert.deepEqual(mine.lines.slice(1, -1), theirs.lines.slice(1, -1), `${name}: the same lines`);
      const header = (l: string) => ({ ...JSON.parse(l), createdAt: undefined });
      assert.deepEqual(header(mine.lines[0]!), header(theirs.lines[0]!), `${name}: the same header`);
      assert.deepEqual(mine.summary, theirs.summary, `${name}: the same summary`);
      for (const lines of [mine.lines, theirs.lines]) {
        const report = await verified(lines, s.log);
        assert.equal(report.valid, true, `${name}: ${JSON.stringify(report.failures ?? report)}`);
        assert.equal(report.counts.receipts, mine.summary.receipts);
      }
      summaries.push(mine.summary);
    }
    assert.ok(summaries[1]!.links! > 0, 'the chain with a subject carries links');
    assert.equal(summaries[3]!.receipts, 5, 'the window holds five receipts');
  });

  it('a caller the ledger refuses fails that export alone, as the ledger refused it; the next one is whole', async (t) => {
    const s = await ledgerOfReceipts(t);
    const checkpoint = await s.log.checkpointer.issue();
    const selection: Selection = { operation: 'vitals.ack', order: 'asc' };
    // A certificate this ledger's CA did not issue (another gateway's): the contract's reads refuse it.
    const other = await startTestGateway(t);
    const stranger = await other.gw.service.issueIdentity!({ name: 'stranger', roles: ['auditor'] });
    await assert.rejects(
      bundle(s, selection, checkpoint, 'thread', stranger),
      /the ledger refused the transaction/,
    );
    const ok = await bundle(s, selection, checkpoint, 'thread');
    assert.equal(ok.summary.receipts, Math.ceil(RECEIPTS / 5), 'every fifth receipt is an ack');
    assert.equal((await verified(ok.lines, s.log)).valid, true, 'the next export is whole');
  });

  it("a client that stops reading stops its export's reads; closing the gateway ends the thread", async (t) => {
    const s = await ledgerOfReceipts(t);
    const thread = s.log.exportThread;
    assert.ok(thread, 'the embedded gateway makes its exports on a thread of its own');
    // A chain of ~1.5 MiB: many more chunks than the thread makes ahead of its consumer.
    await appendBulk(s);
    const height = await s.gw.service.currentHeight();
    await s.log.coverHeight(height);
    const at = { ...s, height };
    const checkpoint = await s.log.checkpointer.issue();
    const selection: Selection = { source: C, order: 'asc' };
    const whole = await bundle(at, selection, checkpoint, 'thread');
    assert.equal(whole.summary.receipts, 250);
    const threadsIdle = threads();

    const summary: ExportSummary = { keys: 0, receipts: 0, skipped: 0 };
    const stream = exportStream(at, selection, checkpoint, 'thread', summary);
    await once(stream, 'data');
    assert.equal(thread.underway, 1);
    stream.destroy();
    await once(stream, 'close');
    for (let i = 0; i < 200 && thread.underway > 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(thread.underway, 0, 'the export stopped reading');
    assert.ok(summary.receipts < 250, `stopped after ${summary.receipts} receipts`);
    assert.equal(threads(), threadsIdle, 'the thread stays for the next export');
    const again = await bundle(at, selection, checkpoint, 'thread');
    assert.deepEqual(again.lines.slice(1, -1), whole.lines.slice(1, -1), 'the next export is whole');

    const running = exportStream(at, selection, checkpoint, 'thread', summary);
    await once(running, 'data');
    running.pause();
    const failed = once(running, 'error');
    await s.gw.close();
    running.resume();
    const [e] = await failed;
    assert.match((e as Error).message, /export thread/);
    assert.ok((await threadsBackTo(threadsIdle - 1)) < threadsIdle, 'closing the gateway ended the thread');
  });
});

describe('the export thread at start', () => {
  it('starts with the gateway (the default) and has the ledger open before any export; the first export runs on it', async (t) => {
    assert.equal(loadConfig({ env: {} }).transparency.exportThreadAtStart, true);
    const { gw, url, admin } = await startTestGateway(t, { 'transparency.exportThreadAtStart': true });
    const thread = gw.service.log?.exportThread;
    assert.ok(thread, 'the embedded gateway has an export thread');
    assert.ok(thread.opened, 'the gateway started the thread without waiting for an export');
    await thread.opened;
    const { token, key } = await service(url, admin);
    const r = await call(url, 'POST', '/v1/receipts', { token, raw: receipt([key], { source: A }) });
    assert.equal(r.status, 201, r.text);
    const withThread = threads();
    const exported = await call(url, 'GET', `/v1/export?source=${A}`, { token: admin });
    assert.equal(exported.status, 200, exported.text);
    assert.equal(thread.begun.bundle, 1, 'the export ran on the thread');
    assert.equal(threads(), withThread, 'and started no thread of its own');
  });

  it('left to the first export when asked: no thread until then', async (t) => {
    const { gw } = await startTestGateway(t, { 'transparency.exportThreadAtStart': false });
    assert.equal(gw.service.log?.exportThread?.opened, undefined);
  });

  it('a thread that cannot open the ledger says why', async (t) => {
    const empty = await tempDir(t);
    const thread = new ExportThread({ ledgerDir: empty, logTree: join(empty, 'tree') }, 64);
    t.after(() => thread.close());
    await assert.rejects(thread.start(), /ledger/i);
  });
});

describe('CSV exports on the export thread', () => {
  /** The CSV as the gateway's thread makes it (`csvStream` without a thread: Fabric, or the thread off). */
  async function csvHere(s: Setting, selection: Selection, bookmark: string, max: number): Promise<string> {
    let text = '';
    for await (const chunk of csvChunks(
      new SummaryPages(s.ledger, s.auditor, selection, bookmark, max).rows(),
    ))
      text += chunk;
    return text;
  }

  it("answer GET /v1/receipts as text/csv from the thread, byte for byte the gateway thread's CSV", async (t) => {
    const s = await ledgerOfReceipts(t);
    const thread = s.log.exportThread;
    assert.ok(thread, 'the embedded gateway has an export thread');
    const url = s.gw.url;
    // 250 more receipts of one source: three contract pages, more than one 64 KiB chunk of CSV.
    const reader = await appendBulk(s, (n) => ({ subject: `urn:torgo:subject:${n % 4}` }));
    const page = await call(url, 'GET', `/v1/receipts?source=${C}&limit=100`, { token: reader });
    assert.equal(page.status, 200, page.text);
    const cursor = page.json.nextCursor as string;
    const bookmarkAfter100 = (await readSelection(s.ledger, s.auditor, { source: C, order: 'asc' }, '', 100))
      .bookmark;

    const cases: [string, string, Selection, string, number][] = [
      ['a source over three pages', `source=${C}`, { source: C, order: 'asc' }, '', 1_000_000],
      ['newest first', `source=${C}&order=desc`, { source: C, order: 'desc' }, '', 1_000_000],
      [
        'a secondary filter',
        `source=${C}&subject=urn:torgo:subject:2`,
        { source: C, subject: 'urn:torgo:subject:2', order: 'asc' },
        '',
        1_000_000,
      ],
      ['a limit inside the first page', `source=${C}&limit=70`, { source: C, order: 'asc' }, '', 70],
      [
        'from a cursor',
        `source=${C}&cursor=${encodeURIComponent(cursor)}`,
        { source: C, order: 'asc' },
        bookmarkAfter100,
        1_000_000,
      ],
      ['an empty result', 'source=nobody', { source: 'nobody', order: 'asc' }, '', 1_000_000],
    ];
    for (const [name, query, selection, bookmark, max] of cases) {
      const before: number = thread.begun.csv;
      const r = await call(url, 'GET', `/v1/receipts?${query}`, { token: reader, accept: 'text/csv' });
      assert.equal(r.status, 200, `${name}: ${r.text}`);
      assert.match(r.headers.get('content-type') ?? '', /^text\/csv/);
      assert.equal(thread.begun.csv, before + 1, `${name}: made on the export thread`);
      assert.equal(r.text, await csvHere(s, selection, bookmark, max), `${name}: the same bytes`);
    }
    const rows = (text: string) => text.trimEnd().split('\r\n').length - 1;
    const whole = await call(url, 'GET', `/v1/receipts?source=${C}`, { token: reader, accept: 'text/csv' });
    assert.equal(rows(whole.text), 250);
    const fromCursor = await call(
      url,
      'GET',
      `/v1/receipts?source=${C}&cursor=${encodeURIComponent(cursor)}`,
      {
        token: reader,
        accept: 'text/csv',
      },
    );
    assert.equal(rows(fromCursor.text), 150);

    // A selection the ledger refuses is refused before the status line, as JSON.
    const before: number = thread.begun.csv;
    const bad = await call(
      url,
      'GET',
      `/v1/receipts?source=${C}&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`,
      {
        token: reader,
        accept: 'text/csv',
      },
    );
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.json.code, 'E_BAD_REQUEST', bad.text);
    assert.equal(thread.begun.csv, before, 'nothing was sent to the thread');
  });
});
