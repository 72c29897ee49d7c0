/**
 * The embedded engine end to end: the KV fixture contract through fabric-shim's dispatcher on real
 * LevelDB, checking each Fabric convention the engine promises to keep.
 */
import './quiet-logs.js';
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import {
  type Block,
  EmbeddedLedger,
  EngineError,
  type Identity,
  verifyLedgerAt,
} from '../../engine/index.js';
import { openDb, stateKey } from '../../engine/state.js';
import { KvContract } from './fixtures/kv-contract.js';
import { openKv, openKvLedger, tempDir } from './helpers.js';

const appender = { mspId: 'Org1MSP', name: 'relay-1', attrs: { 'torgo.role': 'appender' } };

/** Assert that `promise` rejects with an EngineError of `code` (and, if given, exactly `message`). */
async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  message?: string | RegExp,
): Promise<EngineError> {
  let caught: unknown;
  await assert.rejects(promise, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof EngineError, `expected an EngineError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else if (message) assert.match(caught.message, message);
  return caught;
}

async function allBlocks(ledger: EmbeddedLedger): Promise<Block[]> {
  const out: Block[] = [];
  for (let n = 0; n < ledger.height; n++) out.push(await ledger.getBlock(n));
  return out;
}

test('an answer in parts (chaincode/bytes.ts): evaluate hands the parts over as built, payload and result are their concatenation', async (t) => {
  const ledger = await openKvLedger(t);
  const id = await ledger.createIdentity(appender);
  const value = `a value — in pieces, ${'x'.repeat(40)}`;
  await ledger.submit(id, 'put', ['k', value]);
  const answer = await ledger.evaluate(id, 'getParts', ['k', '7']);
  const bytes = Buffer.from(value);
  assert.equal(answer.parts.length, Math.ceil(bytes.length / 7), 'not concatenated on the way');
  assert.deepEqual(
    answer.parts.map((p) => Buffer.from(p)),
    Array.from({ length: answer.parts.length }, (_, i) => bytes.subarray(i * 7, i * 7 + 7)),
  );
  assert.deepEqual(Buffer.from(answer.payload), bytes);
  assert.equal(answer.result, value);
  // Submitted, the answer is its bytes (a peer's proposal response carries one buffer).
  const submitted = await ledger.submit(id, 'getParts', ['k', '5']);
  assert.deepEqual(Buffer.from(submitted.payload), bytes);
  assert.deepEqual(
    submitted.parts.map((p) => Buffer.from(p)),
    [bytes],
  );
  assert.equal(submitted.result, value);
});

test('submit commits a block and evaluate reads committed state', async (t) => {
  const ledger = await openKvLedger(t);
  const id = await ledger.createIdentity(appender);
  const put = await ledger.submit(id, 'put', ['a', 'one']);
  assert.equal(put.result, put.txId, 'the contract returned its tx id');
  assert.match(put.txId, /^[0-9a-f]{64}$/);
  assert.deepEqual([put.blockNumber, put.txNumber, put.validationCode], [0, 0, 'VALID']);
  assert.deepEqual(put.event, { name: 'put', payload: Buffer.from('{"key":"a"}') });
  assert.equal((await ledger.evaluate(id, 'get', ['a'])).result, 'one');
  assert.equal((await ledger.evaluate(id, 'kv:get', ['a'])).result, 'one', 'contract-qualified name');

  const heightBefore = ledger.height;
  await ledger.evaluate(id, 'put', ['b', 'never']);
  assert.equal(ledger.height, heightBefore, 'evaluate orders nothing');
  assert.equal((await ledger.evaluate(id, 'get', ['b'])).result, '', 'evaluate writes nothing');

  const block = await ledger.getBlock(0);
  assert.equal(block.previousHash, '0'.repeat(64));
  const [tx] = block.transactions;
  assert.equal(tx?.txId, put.txId);
  assert.equal(tx?.fcn, 'put');
  assert.deepEqual(tx?.creator, {
    mspId: 'Org1MSP',
    id: 'x509::/OU=client/CN=relay-1::/O=Org1MSP/CN=ca.Org1MSP',
  });
  assert.deepEqual(tx?.writeSet, [
    { key: 'a', isDelete: false, value: Buffer.from('one').toString('base64') },
  ]);
  assert.deepEqual(await ledger.getTransactionStatus(put.txId), {
    blockNumber: 0,
    txNumber: 0,
    validationCode: 'VALID',
  });
  await rejectsWith(ledger.getBlock(1), 'E_BLOCK_NOT_FOUND');
});

test('a failing transaction leaves no trace and keeps the contract message intact', async (t) => {
  const ledger = await openKvLedger(t);
  const id = await ledger.createIdentity(appender);
  await ledger.submit(id, 'put', ['k', 'kept']);
  const height = ledger.height;
  const error = await rejectsWith(
    ledger.submit(id, 'failAfterWrite', ['k', 'lost']),
    'E_ENDORSE',
    'KV_REFUSED: will not keep k',
  );
  const txId = error.details?.['txId'];
  assert.equal(typeof txId, 'string');
  assert.equal(ledger.height, height, 'no block for an endorsement failure');
  assert.equal(await ledger.getTransactionStatus(txId as string), undefined);
  assert.equal((await ledger.evaluate(id, 'get', ['k'])).result, 'kept');
  const history = JSON.parse((await ledger.evaluate(id, 'history', ['k'])).result) as unknown[];
  assert.equal(history.length, 1);
  const events = (await allBlocks(ledger)).flatMap((b) => b.transactions.map((x) => x.event?.name));
  assert.ok(!events.includes('never'));
  await rejectsWith(ledger.submit(id, 'noSuchFunction'), 'E_ENDORSE', /noSuchFunction/);
  await rejectsWith(
    ledger.submit(id, 'put', ['only-one-arg']),
    'E_ENDORSE',
    'Expected 2 parameters, but 1 have been supplied',
  );
  await ledger.verifyChain();
});

test('a transaction does not read its own writes (Fabric simulation)', async (t) => {
  const ledger = await openKvLedger(t);
  const id = await ledger.createIdentity(appender);
  assert.equal((await ledger.submit(id, 'putThenGet', ['fresh', 'v1'])).result, '');
  assert.equal((await ledger.submit(id, 'putThenGet', ['fresh', 'v2'])).result, 'v1');
  assert.equal((await ledger.evaluate(id, 'get', ['fresh'])).result, 'v2');
});

test('transactions are ordered: sequential writes apply in order, history newest first', async (t) => {
  const ledger = await openKvLedger(t);
  const id = await ledger.createIdentity(appender);
  const txIds: string[] = [];
  let last = { blockNumber: -1, txNumber: -1 };
  for (const v of ['v1', 'v2', 'v3']) {
    const r = await ledger.submit(id, 'put', ['h', v]);
    assert.ok(
      r.blockNumber > last.blockNumber || (r.blockNumber === last.blockNumber && r.txNumber > last.txNumber),
    );
    last = r;
    txIds.push(r.txId);
  }
  txIds.push((await ledger.submit(id, 'del', ['h'])).txId);
  txIds.push((await ledger.submit(id, 'put', ['h', 'v5'])).txId);
  // An empty value is a delete on Fabric (a nil write).
  txIds.push((await ledger.submit(id, 'put', ['h', ''])).txId);
  assert.equal((await ledger.evaluate(id, 'get', ['h'])).result, '');

  type Mod = { txId: string; isDelete: boolean; value: string; seconds: number };
  const history = JSON.parse((await ledger.evaluate(id, 'history', ['h'])).result) as Mod[];
  assert.deepEqual(
    history.map((m) => m.txId),
    [...txIds].reverse(),
  );
  assert.deepEqual(
    history.map((m) => (m.isDelete ? null : m.value)),
    [null, 'v5', null, 'v3', 'v2', 'v1'],
  );
  assert.equal(
    typeof history[0]?.seconds,
    'number',
    'history timestamps carry plain numbers, as the shim gives',
  );
  assert.equal((await ledger.evaluate(id, 'history', ['never-written'])).result, '[]');
});

test('group commit: 200 concurrent submits, each acknowledged once, in fewer blocks', async (t) => {
  const ledger = await openKvLedger(t);
  const id = await ledger.createIdentity(appender);
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      ledger.submit(id, 'put', [`g${String(i).padStart(3, '0')}`, String(i)]),
    ),
  );
  const acknowledged = new Set(results.map((r) => r.txId));
  assert.equal(acknowledged.size, 200);

  const blocks = await allBlocks(ledger);
  assert.ok(blocks.length < 200, `expected fewer blocks than transactions, got ${blocks.length}`);
  assert.ok(blocks.length >= 2, 'the first block does not wait for the rest');
  const inBlocks = blocks.flatMap((b) => b.transactions.map((tx) => tx.txId));
  assert.equal(inBlocks.length, 200, 'every transaction in exactly one block');
  assert.deepEqual(new Set(inBlocks), acknowledged);
  for (const r of results) {
    assert.equal(
      blocks[r.blockNumber]?.transactions[r.txNumber]?.txId,
      r.txId,
      'reported position is the real one',
    );
  }
  const report = await ledger.verifyChain();
  assert.deepEqual([report.transactions, report.validTransactions, report.keys], [200, 200, 200]);
});

test('MVCC: concurrent read-modify-writes of one key conflict and write nothing', async (t) => {
  const ledger = await openKvLedger(t);
  const id = await ledger.createIdentity(appender);
  const outcomes = await Promise.allSettled(
    Array.from({ length: 20 }, () => ledger.submit(id, 'increment', ['ctr'])),
  );
  const ok = outcomes.filter((o) => o.status === 'fulfilled');
  const conflicts = outcomes.filter(
    (o) =>
      o.status === 'rejected' && o.reason instanceof EngineError && o.reason.code === 'E_MVCC_READ_CONFLICT',
  );
  assert.equal(ok.length + conflicts.length, 20);
  assert.ok(conflicts.length >= 1, 'simultaneous simulations read the same version');
  assert.equal((await ledger.evaluate(id, 'get', ['ctr'])).result, String(ok.length), 'only valid txs wrote');
  const invalid = (await allBlocks(ledger)).flatMap((b) =>
    b.transactions.filter((tx) => tx.validationCode === 'MVCC_READ_CONFLICT'),
  );
  assert.equal(invalid.length, conflicts.length, 'invalid transactions are in blocks, marked');
  const first = conflicts[0];
  if (first?.status === 'rejected') {
    const txId = (first.reason as EngineError).details?.['txId'] as string;
    assert.equal((await ledger.getTransactionStatus(txId))?.validationCode, 'MVCC_READ_CONFLICT');
  }
  await ledger.verifyChain();
});

test('range queries with pagination and bookmarks', async (t) => {
  const ledger = await openKvLedger(t);
  const id = await ledger.createIdentity(appender);
  await Promise.all(
    Array.from({ length: 25 }, (_, i) =>
      ledger.submit(id, 'put', [`p${String(i).padStart(2, '0')}`, `${i}`]),
    ),
  );
  await ledger.submit(id, 'put', ['q-outside', 'x']);

  const all = JSON.parse((await ledger.evaluate(id, 'range', ['p', 'q'])).result) as string[][];
  assert.equal(all.length, 25);
  assert.deepEqual(all[0], ['p00', '0']);
  assert.deepEqual(
    all.map(([k]) => k),
    [...all.map(([k]) => k)].sort(),
  );

  type Page = { keys: string[]; bookmark?: string; fetched?: number };
  const page = async (bookmark: string): Promise<Page> =>
    JSON.parse((await ledger.evaluate(id, 'rangePage', ['p', 'q', '10', bookmark])).result) as Page;
  const p1 = await page('');
  assert.deepEqual([p1.keys.length, p1.keys[0], p1.bookmark, p1.fetched], [10, 'p00', 'p10', 10]);
  const p2 = await page(p1.bookmark ?? '');
  assert.deepEqual([p2.keys[0], p2.keys[9], p2.bookmark], ['p10', 'p19', 'p20']);
  const p3 = await page(p2.bookmark ?? '');
  assert.deepEqual([p3.keys.length, p3.bookmark, p3.fetched], [5, '', 5]);

  const unpaged = JSON.parse((await ledger.evaluate(id, 'rangePage', ['p', 'q', '0', ''])).result) as Page;
  assert.equal(unpaged.keys.length, 25, 'page size 0 and no bookmark is a plain range scan');
  assert.equal(unpaged.bookmark, undefined, '…without metadata');

  await rejectsWith(
    ledger.submit(id, 'pageThenWrite', ['w']),
    'E_ENDORSE',
    /unsuppored transaction\. Transaction has already performed a paginated query\. Writes are not allowed$/,
  );

  const limited = await openKvLedger(t, { totalQueryLimit: 7 });
  const lid = await limited.createIdentity(appender);
  await Promise.all(Array.from({ length: 9 }, (_, i) => limited.submit(lid, 'put', [`r${i}`, 'x'])));
  assert.equal((JSON.parse((await limited.evaluate(lid, 'range', ['', ''])).result) as unknown[]).length, 7);
});

test('composite keys: partial-key queries work, range scans into their namespace are refused', async (t) => {
  const ledger = await openKvLedger(t);
  const id = await ledger.createIdentity(appender);
  await ledger.submit(id, 'putComposite', ['receipt', 'src-a', '002', 'A2']);
  await ledger.submit(id, 'putComposite', ['receipt', 'src-a', '001', 'A1']);
  await ledger.submit(id, 'putComposite', ['receipt', 'src-b', '001', 'B1']);
  await ledger.submit(id, 'put', ['plain', 'P']);

  const a = JSON.parse((await ledger.evaluate(id, 'partial', ['receipt', 'src-a'])).result) as unknown[];
  assert.deepEqual(a, [
    { objectType: 'receipt', attributes: ['src-a', '001'], value: 'A1' },
    { objectType: 'receipt', attributes: ['src-a', '002'], value: 'A2' },
  ]);
  const page = JSON.parse((await ledger.evaluate(id, 'partialPage', ['receipt', '2', ''])).result) as {
    values: string[];
    bookmark: string;
  };
  assert.deepEqual(page.values, ['A1', 'A2']);
  const rest = JSON.parse(
    (await ledger.evaluate(id, 'partialPage', ['receipt', '2', page.bookmark])).result,
  ) as {
    values: string[];
  };
  assert.deepEqual(rest.values, ['B1']);

  const everything = JSON.parse((await ledger.evaluate(id, 'range', ['', ''])).result) as string[][];
  assert.deepEqual(everything, [['plain', 'P']], 'an open range scan does not see composite keys');
  await rejectsWith(
    ledger.evaluate(id, 'rangeOverComposite', ['receipt']),
    'E_ENDORSE',
    'first character of the key [\u0000receipt\u0000] contains a null character which is not allowed',
  );
});

test('LevelDB limits: no rich queries, no private data', async (t) => {
  const ledger = await openKvLedger(t);
  const id = await ledger.createIdentity(appender);
  await rejectsWith(
    ledger.evaluate(id, 'richQuery', ['{"selector":{}}']),
    'E_ENDORSE',
    'ExecuteQuery not supported for leveldb',
  );
  await rejectsWith(
    ledger.evaluate(id, 'privateRead', ['secrets', 'k']),
    'E_ENDORSE',
    /^collection \[secrets\] not defined/,
  );
});

test('events: blocks delivered in order, replayed from a block number, then live', async (t) => {
  const ledger = await openKvLedger(t);
  const id = await ledger.createIdentity(appender);
  const seen: Block[] = [];
  const live = ledger.subscribe(0, (b) => {
    seen.push(b);
  });
  const first = await ledger.submit(id, 'emit', ['receipts', '["r1","r2"]']);
  assert.deepEqual(
    first.event,
    { name: 'receipts', payload: Buffer.from('["r1","r2"]') },
    'last setEvent wins',
  );
  await Promise.allSettled([
    ledger.submit(id, 'increment', ['e']),
    ledger.submit(id, 'increment', ['e']),
    ledger.submit(id, 'increment', ['e']),
  ]);
  const last = await ledger.submit(id, 'put', ['done', 'yes']);

  // Replay from block 1 on a second follower, which then also receives a new block live.
  const replayed: Block[] = [];
  const controller = new AbortController();
  const follower = (async () => {
    for await (const b of ledger.blocks(1, { signal: controller.signal })) {
      replayed.push(b);
      if (b.number === last.blockNumber + 1) controller.abort();
    }
  })();
  const extra = await ledger.submit(id, 'put', ['after', 'replay']);
  await follower;
  live.close();
  await live.done;

  assert.deepEqual(
    seen.map((b) => b.number),
    Array.from({ length: seen.length }, (_, i) => i),
  );
  assert.ok(seen.length >= last.blockNumber + 1);
  assert.deepEqual(
    replayed.map((b) => b.number),
    Array.from({ length: extra.blockNumber }, (_, i) => i + 1),
  );
  assert.equal(replayed.at(-1)?.transactions[0]?.txId, extra.txId);
  const tx0 = seen[0]?.transactions[0];
  assert.deepEqual(tx0?.event, { name: 'receipts', payload: Buffer.from('["r1","r2"]').toString('base64') });
  const codes = seen.flatMap((b) => b.transactions.map((tx) => tx.validationCode));
  assert.ok(codes.every((c) => c === 'VALID' || c === 'MVCC_READ_CONFLICT'));
  for (const [i, b] of seen.entries()) if (i > 0) assert.equal(b.previousHash, seen[i - 1]?.hash);
});

test('identity: certificate attributes reach the contract through fabric-shim ClientIdentity', async (t) => {
  const tmp = await tempDir(t);
  const ledger = await openKv(tmp.dir, { peerMspId: 'PeerOrgMSP', channel: 'audit' });
  tmp.closeLater(ledger);
  const alice = await ledger.createIdentity(appender);
  const bob = await ledger.createIdentity({
    mspId: 'Org2MSP',
    name: 'bob',
    attrs: { 'torgo.role': 'auditor' },
  });
  const nobody = await ledger.createIdentity({ mspId: 'Org1MSP', name: 'nobody' });
  const who = async (identity: Identity): Promise<Record<string, unknown>> =>
    JSON.parse((await ledger.evaluate(identity, 'whoami')).result) as Record<string, unknown>;
  assert.deepEqual(await who(alice), {
    mspId: 'Org1MSP',
    id: 'x509::/OU=client/CN=relay-1::/O=Org1MSP/CN=ca.Org1MSP',
    role: 'appender',
    enrollmentId: 'relay-1',
    isAppender: true,
  });
  assert.deepEqual(await who(bob), {
    mspId: 'Org2MSP',
    id: 'x509::/OU=client/CN=bob::/O=Org2MSP/CN=ca.Org2MSP',
    role: 'auditor',
    enrollmentId: 'bob',
    isAppender: false,
  });
  assert.equal((await who(nobody))['role'], null);
  // Concurrent first use of a new MSP creates one CA, which issued all three.
  const trio = await Promise.all(
    ['x', 'y', 'z'].map((name) => ledger.createIdentity({ mspId: 'Org3MSP', name })),
  );
  for (const member of trio) assert.equal((await who(member))['mspId'], 'Org3MSP');

  const info = JSON.parse(
    (await ledger.evaluate(alice, 'txInfo', [], { transient: { secret: Buffer.from('s3cret') } })).result,
  ) as Record<string, unknown>;
  assert.equal(info['channel'], 'audit');
  assert.equal(info['peerMspId'], 'PeerOrgMSP');
  assert.deepEqual(info['fcn'], { fcn: 'txInfo', params: [] });
  assert.deepEqual(info['args'], ['txInfo']);
  assert.deepEqual(info['transient'], { secret: 's3cret' });
  assert.match(info['binding'] as string, /^[0-9a-f]{64}$/);
  assert.equal(
    info['date'],
    new Date((info['seconds'] as number) * 1000 + (info['nanos'] as number) / 1e6).toISOString(),
  );

  // The MSP check: wrong MSP, foreign CA, tampered certificate.
  await rejectsWith(
    ledger.evaluate({ mspId: 'Org2MSP', certificate: alice.certificate }, 'whoami'),
    'E_IDENTITY',
  );
  await rejectsWith(
    ledger.evaluate({ mspId: 'Org9MSP', certificate: alice.certificate }, 'whoami'),
    'E_IDENTITY',
  );
  const other = await openKvLedger(t);
  const stranger = await other.createIdentity(appender);
  await rejectsWith(
    ledger.submit(stranger, 'put', ['x', 'y']),
    'E_IDENTITY',
    /not issued by the CA of Org1MSP/,
  );
  await rejectsWith(
    ledger.evaluate({ mspId: 'Org1MSP', certificate: 'not a certificate' }, 'whoami'),
    'E_IDENTITY',
  );

  const keyMode = (await stat(path.join(tmp.dir, 'msp', 'Org1MSP', 'ca-key.pem'))).mode & 0o777;
  assert.equal(keyMode, 0o600);
  await rejectsWith(ledger.createIdentity({ mspId: '../evil', name: 'x' }), 'E_ARGUMENT');
  await rejectsWith(
    ledger.createIdentity({ mspId: 'Org1MSP', name: 'x', attrs: { 'hf.Type': 'admin' } }),
    'E_ARGUMENT',
  );
});

test('lifecycle: queue bound, close drains, reopen keeps everything, one opener per directory', async (t) => {
  const tmp = await tempDir(t);
  const ledger = await openKv(tmp.dir, { maxQueue: 5 });
  const id = await ledger.createIdentity(appender);
  const burst = await Promise.allSettled(
    Array.from({ length: 8 }, (_, i) => ledger.submit(id, 'put', [`b${i}`, 'x'])),
  );
  const full = burst.filter(
    (o) => o.status === 'rejected' && (o.reason as EngineError).code === 'E_QUEUE_FULL',
  );
  assert.deepEqual([burst.length - full.length, full.length], [5, 3]);

  await rejectsWith(openKv(tmp.dir), 'E_LOCKED');
  const pending = [
    ledger.submit(id, 'put', ['during-close', '1']),
    ledger.submit(id, 'put', ['during-close-2', '2']),
  ];
  await ledger.close();
  const settled = await Promise.allSettled(pending);
  assert.ok(
    settled.every((s) => s.status === 'fulfilled'),
    'transactions in flight at close are completed',
  );
  await rejectsWith(ledger.submit(id, 'put', ['late', 'x']), 'E_CLOSED');
  await ledger.close();

  const reopened = await openKv(tmp.dir);
  tmp.closeLater(reopened);
  assert.equal(reopened.height > 0, true);
  assert.equal(
    (await reopened.evaluate(id, 'get', ['during-close-2'])).result,
    '2',
    'the old identity is still valid',
  );
  const report = await reopened.verifyChain();
  assert.equal(report.validTransactions, 7);
  const next = await reopened.submit(id, 'put', ['after-reopen', 'x']);
  assert.equal(next.blockNumber, report.height, 'the chain continues');
});

test('verification detects tampering with state or blocks', async (t) => {
  const tmp = await tempDir(t);
  const ledger = await openKv(tmp.dir);
  const id = await ledger.createIdentity(appender);
  await ledger.submit(id, 'put', ['a', '1']);
  await ledger.submit(id, 'put', ['b', '2']);
  await ledger.close();
  const location = path.join(tmp.dir, 'ledger');
  assert.equal((await verifyLedgerAt(location)).height, 2);

  const db = await openDb(location);
  const original = await db.get(stateKey('a'));
  assert.ok(original);
  const forged = Buffer.from(original);
  forged[forged.length - 1] = '9'.charCodeAt(0);
  await db.put(stateKey('a'), forged);
  await db.close();
  await rejectsWith(verifyLedgerAt(location), 'E_CHAIN_CORRUPT', /state of key "a"/);

  const db2 = await openDb(location);
  await db2.put(stateKey('a'), original);
  const block0 = await db2.get('b/0000000000000000');
  assert.ok(block0);
  await db2.put('b/0000000000000000', Buffer.from(block0.toString().replace('"fcn":"put"', '"fcn":"del"')));
  await db2.close();
  await rejectsWith(
    verifyLedgerAt(location),
    'E_CHAIN_CORRUPT',
    /block 0: transactions do not match dataHash/,
  );
});

test('the contract class list is not modified and two ledgers run side by side', async (t) => {
  const contracts = [KvContract];
  const one = await openKvLedger(t, { contracts });
  const two = await openKvLedger(t, { contracts });
  assert.equal(contracts.length, 1);
  const a = await one.createIdentity(appender);
  const b = await two.createIdentity(appender);
  await one.submit(a, 'put', ['k', 'one']);
  await two.submit(b, 'put', ['k', 'two']);
  assert.equal((await one.evaluate(a, 'get', ['k'])).result, 'one');
  assert.equal((await two.evaluate(b, 'get', ['k'])).result, 'two');
});

test('a block window waits for submitters whose next transaction is due, and a full block does not wait', async (t) => {
  const ledger = await openKvLedger(t, { blockWindowMs: 10_000, maxBlockTxs: 3 });
  const ids = await Promise.all(
    ['relay-1', 'relay-2', 'relay-3'].map((name) => ledger.createIdentity({ ...appender, name })),
  );
  // Two rounds 250 ms apart, the three at once: nobody's rhythm is known yet, so nothing waits. (A
  // creator stops being expected once overdue by more than its mean gap: with a gap of 250 ms, a
  // loaded machine has to delay the third round by a quarter of a second more than the second for
  // the window not to wait; with 60 ms it did, at load 20.)
  const started = performance.now();
  for (const round of [0, 1]) {
    await Promise.all(ids.map((id, i) => ledger.submit(id, 'put', [`k${round}${i}`, 'v'])));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.ok(performance.now() - started < 5_000, 'no window was waited out');
  const height = ledger.height;
  // Third round, 20 ms apart: the others' next transactions are due, so the first waits for them; the third fills the block.
  const first = ledger.submit(ids[0]!, 'put', ['a', '1']);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const second = ledger.submit(ids[1]!, 'put', ['b', '2']);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const third = ledger.submit(ids[2]!, 'put', ['c', '3']);
  const results = await Promise.all([first, second, third]);
  assert.deepEqual(
    results.map((r) => [r.blockNumber, r.txNumber]),
    [
      [height, 0],
      [height, 1],
      [height, 2],
    ],
  );
  assert.ok(performance.now() - started < 10_000, 'the third transaction filled the block: cut at once');
  assert.equal(ledger.height, height + 1);
  await rejectsWith(openKv('unused', { blockWindowMs: -1 }), 'E_ARGUMENT');
});

test('a block window never waits for a client whose one transaction is already in the block', async (t) => {
  const ledger = await openKvLedger(t, { blockWindowMs: 10_000 });
  const id = await ledger.createIdentity(appender);
  const started = performance.now();
  for (let i = 0; i < 5; i++) await ledger.submit(id, 'put', [`k${i}`, 'v']);
  assert.equal(ledger.height, 5);
  assert.ok(performance.now() - started < 5_000, 'a lone sequential client waited for itself');
});

test('endorsements see the state committed when they start: those at one height agree, the next height sees the commit', async (t) => {
  // Endorsements that start at the same committed height share one LevelDB snapshot (ledger.ts,
  // SnapshotShare); every commit must still be visible to everything endorsed after it.
  const ledger = await openKvLedger(t);
  const id = await ledger.createIdentity(appender);
  for (let round = 1; round <= 4; round++) {
    const concurrent = Array.from({ length: 8 }, () => ledger.evaluate(id, 'get', ['k']));
    const expected = round === 1 ? '' : `v${round - 1}`;
    assert.deepEqual(
      (await Promise.all(concurrent)).map((r) => r.result),
      Array(8).fill(expected),
    );
    await ledger.submit(id, 'put', ['k', `v${round}`]);
    assert.equal((await ledger.evaluate(id, 'get', ['k'])).result, `v${round}`);
    // A read-modify-write endorsed after the commit is valid: it read the committed version.
    await ledger.submit(id, 'increment', [`n${round}`]);
  }
  await ledger.close();
});

test('LevelDB sizes: a ledger opens with its block cache and open-file limit set, and refuses bad ones', async (t) => {
  const ledger = await openKvLedger(t, { cacheBytes: 16 * 2 ** 20, maxOpenFiles: 200 });
  const id = await ledger.createIdentity(appender);
  await ledger.submit(id, 'put', ['k', 'v']);
  assert.equal(ledger.height, 1);
  await rejectsWith(openKv('unused', { cacheBytes: 0 }), 'E_ARGUMENT');
  await rejectsWith(openKv('unused', { maxOpenFiles: 1.5 }), 'E_ARGUMENT');
  await rejectsWith(openKv('unused', { writeBufferBytes: 0 }), 'E_ARGUMENT');
});

test('LevelDB write buffer: the size given is the one LevelDB flushes at; 8 MiB by default', async (t) => {
  // 16 KiB values, one per transaction: tables appear once the buffer is full.
  const tablesAfterWrites = async (values: number, writeBufferBytes?: number): Promise<number> => {
    const tmp = await tempDir(t);
    const ledger = await openKv(tmp.dir, writeBufferBytes === undefined ? {} : { writeBufferBytes });
    const id = await ledger.createIdentity(appender);
    const value = 'x'.repeat(16 * 1024);
    for (let i = 0; i < values; i++) await ledger.submit(id, 'put', [`k${i}`, value]);
    const files = await readdir(path.join(tmp.dir, 'ledger'));
    await ledger.close();
    return files.filter((f) => f.endsWith('.ldb')).length;
  };
  assert.ok((await tablesAfterWrites(128, 256 * 1024)) > 0, '2 MiB overflow a 256 KiB buffer');
  assert.equal(await tablesAfterWrites(128, 16 * 2 ** 20), 0, 'a 16 MiB buffer holds 2 MiB');
  assert.ok((await tablesAfterWrites(384, 4 * 2 ** 20)) > 0, "6 MiB overflow LevelDB's own 4 MiB");
  assert.equal(await tablesAfterWrites(384), 0, 'the default (8 MiB) holds 6 MiB');
  assert.ok((await tablesAfterWrites(768)) > 0, '12 MiB overflow the default');
});

test('LevelDB write buffer: a closed ledger leaves no log to replay at the next open', async (t) => {
  const tmp = await tempDir(t);
  const logBytes = async () => {
    const dir = path.join(tmp.dir, 'ledger');
    const logs = (await readdir(dir)).filter((f) => f.endsWith('.log'));
    return (await Promise.all(logs.map(async (f) => (await stat(path.join(dir, f))).size))).reduce(
      (a, b) => a + b,
      0,
    );
  };
  const ledger = await openKv(tmp.dir, { writeBufferBytes: 16 * 2 ** 20 });
  const id = await ledger.createIdentity(appender);
  for (let i = 0; i < 64; i++) await ledger.submit(id, 'put', [`k${i}`, 'x'.repeat(16 * 1024)]);
  assert.ok((await logBytes()) > 2 ** 20, 'the writes are in the log while open');
  await ledger.close();
  assert.equal(await logBytes(), 0, 'close wrote the memtable to a table (engine/state.ts flushMemtable)');
  const again = await openKv(tmp.dir);
  tmp.closeLater(again);
  assert.equal((await again.evaluate(id, 'get', ['k63'])).result, 'x'.repeat(16 * 1024));
});
