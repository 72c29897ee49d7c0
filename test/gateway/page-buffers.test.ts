/**
 * gateway/http/page-buffers.ts: a JSON page's buffer is reused only after its response closed, and
 * pages answered at once over a real connection each get their own bytes — the bytes the same query
 * answers alone.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { PageBuffers } from '../../gateway/http/page-buffers.js';
import { call, receipt, service, startTestGateway } from './helpers.js';

test('PageBuffers: a buffer is lent again only after its response closed, and at most `keep` are kept', () => {
  const pool = new PageBuffers(2, 4096, 1024);
  const first = new EventEmitter();
  const a = pool.lend(100, first);
  assert.ok(a.length >= 1024, 'at least the smallest size');
  const second = new EventEmitter();
  const b = pool.lend(100, second);
  assert.notEqual(a, b, 'an open response keeps its buffer');
  first.emit('close');
  assert.equal(pool.kept, 1);
  const third = new EventEmitter();
  assert.equal(pool.lend(100, third), a, 'a closed response’s buffer is reused');
  assert.equal(pool.kept, 0);
  second.emit('close');
  third.emit('close');
  third.emit('close'); // `once`: given back a single time
  assert.equal(pool.kept, 2);
  const big = new EventEmitter();
  const large = pool.lend(5000, big);
  assert.ok(large.length >= 5000, 'a page larger than every kept buffer gets its own');
  assert.equal(pool.kept, 2);
  big.emit('close');
  assert.equal(pool.kept, 2, 'never more than `keep`, never one above `largest`');
});

test('GET /v1/receipts over a real connection: pages answered at once are each the bytes of the query alone', async (t) => {
  const { url, admin } = await startTestGateway(t);
  const s = await service(url, admin);
  const sources = ['ward-a', 'ward-b', 'ward-c', 'ward-d'];
  const items = sources.flatMap((source) => Array.from({ length: 6 }, () => receipt([s.key], { source })));
  const r = await call(url, 'POST', '/v1/receipts/batch', { token: s.token, body: { receipts: items } });
  assert.equal(r.status, 200, r.text);
  const query = (source: string) =>
    call(url, 'GET', `/v1/receipts?source=${source}&limit=5`, { token: s.token });
  const alone = new Map<string, string>();
  for (const source of sources) {
    const page = await query(source);
    assert.equal(page.status, 200, page.text);
    assert.equal(page.json.receipts.length, 5);
    for (const row of page.json.receipts) assert.equal(row.source, source);
    alone.set(source, page.text);
  }
  for (let round = 0; round < 5; round++) {
    const pages = await Promise.all(
      [...sources, ...sources].map(async (source) => [source, await query(source)] as const),
    );
    for (const [source, page] of pages)
      assert.equal(page.text, alone.get(source), `round ${round}, ${source}`);
  }
});
