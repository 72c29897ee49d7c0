/**
 * The engine's fast paths against their plain definitions: canonical JSON, key order, block sealing,
 * and the three dispatcher costs trimmed in shim.ts (certificate parse memo, level check before
 * formatting, debug lines built only when debug is on). Each must give exactly what the plain version gives.
 */
import './quiet-logs.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import fc from 'fast-check';
import {
  type Block,
  type BlockTransaction,
  buildBlock,
  encodeBlock,
  sealBlock,
} from '../../engine/blockstore.js';
import { argsHashOf } from '../../engine/argshash.js';
import { canonicalJson, sha256Hex } from '../../engine/canonical.js';
import { encodeStoredBlock, isLargeWrite } from '../../engine/storage.js';
import {
  type DataMarshallModule,
  originalInvokeFunctionality,
  shimInternals,
  utf8WithText,
  type WinstonLogger,
} from '../../chaincode/fabric-internals.js';
import { chaincodeFromContracts, ShimClientIdentity } from '../../engine/shim.js';
import { TxSimulation } from '../../engine/simulation.js';
import {
  compareKeys,
  encodeState,
  encodeStateRef,
  type KeyRange,
  openDb,
  sortByKey,
  StateView,
  stateKey,
  valueKey,
  type VersionedKV,
} from '../../engine/state.js';
import { EmbeddedStub, type TxContext } from '../../engine/stub.js';
import { makeReceipts } from '../../bench/receipts.js';
import { openKv, openKvLedger, tempDir } from './helpers.js';
import { trickyString } from '../core/tricky-strings.js';
import { KvContract } from './fixtures/kv-contract.js';

/** The definition canonical.ts started from (RFC 8785 key order, safe integers only). */
function referenceCanonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new TypeError(`canonical JSON allows only safe integers, got ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(referenceCanonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${referenceCanonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonical JSON cannot encode a ${typeof value}`);
}

const anyString = fc.string({ unit: 'binary', maxLength: 12 });
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    anyString,
    fc.array(tie('value')),
    fc.dictionary(anyString, fc.option(tie('value'), { nil: undefined })),
  ),
})).value;

test('canonicalJson is the plain definition, errors included', () => {
  fc.assert(
    fc.property(jsonValue, (v) => {
      assert.equal(canonicalJson(v), referenceCanonicalJson(v));
    }),
    { numRuns: 2000 },
  );
  for (const bad of [1.5, Number.NaN, 2 ** 53, () => 1, 1n, [undefined], { a: [Symbol()] }]) {
    assert.throws(
      () => canonicalJson(bad),
      (e: Error) => {
        assert.throws(() => referenceCanonicalJson(bad), { name: e.name, message: e.message });
        return true;
      },
    );
  }
});

test('canonicalJson quotes keys as the definition does past its memory of quoted keys: many keys, long keys', () => {
  const many = Object.fromEntries(
    Array.from({ length: 3000 }, (_, i) => [`k${i}"\\${'é'.repeat(i % 70)}`, i]),
  );
  const long = { ['x'.repeat(65)]: 1, ['"'.repeat(64)]: 2, ['\ud800'.repeat(100)]: [3] };
  for (let round = 0; round < 2; round++) {
    assert.equal(canonicalJson(many), referenceCanonicalJson(many));
    assert.equal(canonicalJson(long), referenceCanonicalJson(long));
  }
});

test('compareKeys is UTF-8 byte order, surrogates (paired or lone) included', () => {
  const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  const key = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 8 }),
    fc.string({
      unit: fc.constantFrom('a', 'b', '\uffff', '\ue000', '\ud800', '\udc00', '\ud83d', '\ude00', '\u0000'),
      maxLength: 6,
    }),
  );
  fc.assert(
    fc.property(key, key, (a, b) => {
      assert.equal(Math.sign(compareKeys(a, b)), Math.sign(byteOrder(a, b)), JSON.stringify([a, b]));
    }),
    { numRuns: 20000 },
  );
  for (const [a, b] of [
    ['\ud800', '\ud800\udc00'],
    ['a\ud83d', 'a\ud83d\ude00'],
    ['\uffff', '\ud800\udc00'],
    ['\ud800x', '\ud800\udc00'],
    ['', ''],
  ] as const) {
    assert.equal(Math.sign(compareKeys(a, b)), Math.sign(byteOrder(a, b)), JSON.stringify([a, b]));
  }
});

test('sortByKey is a sort by compareKeys (UTF-8 byte order), with and without surrogates', () => {
  const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  const key = fc.oneof(
    fc.string({
      unit: fc.constantFrom('a', 'b', '!', '"', '\u00e9', '\uffff', '\ue000', '\u0000'),
      maxLength: 8,
    }),
    fc.string({ unit: 'binary', maxLength: 8 }),
  );
  fc.assert(
    fc.property(fc.uniqueArray(key, { maxLength: 40 }), (keys) => {
      const sorted = sortByKey(keys.map((k) => ({ key: k }))).map((e) => e.key);
      assert.deepEqual(sorted, [...keys].sort(byteOrder));
    }),
    { numRuns: 2000 },
  );
  // A surrogate pair sorts after U+FFFF in UTF-8, before it in UTF-16: the native order would be wrong.
  assert.deepEqual(
    sortByKey([{ key: '\ud800\udc00' }, { key: '\uffff' }]).map((e) => e.key),
    ['\uffff', '\ud800\udc00'],
  );
});

test("sealBlock is buildBlock, encodeBlock's length and encodeStoredBlock, in one pass", () => {
  const base64 = fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b).toString('base64'));
  const write = fc.oneof(
    fc.record({ key: anyString, isDelete: fc.constant(false), value: base64 }),
    fc.record({ key: anyString, isDelete: fc.constant(true), value: fc.constant('') }),
  );
  const transaction: fc.Arbitrary<BlockTransaction> = fc.record({
    txId: anyString,
    timestamp: fc.record({ seconds: fc.nat(), nanos: fc.nat(999_999_999) }),
    creator: fc.record({ mspId: anyString, id: anyString }),
    fcn: anyString,
    argsHash: fc.stringMatching(/^[0-9a-f]{64}$/),
    readSetHash: fc.stringMatching(/^[0-9a-f]{64}$/),
    writeSet: fc.array(write, { maxLength: 6 }),
    validationCode: fc.constantFrom('VALID', 'MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT', 'DUPLICATE_TXID'),
    event: fc.option(fc.record({ name: anyString, payload: base64 }), { nil: null }),
  });
  fc.assert(
    fc.property(fc.nat(), fc.array(transaction, { maxLength: 5 }), (number, transactions) => {
      const previousHash = 'ef'.repeat(32);
      const plain = buildBlock(number, previousHash, transactions);
      const together = sealBlock(number, previousHash, transactions);
      assert.deepEqual(together.block, plain);
      assert.equal(together.size, encodeBlock(plain).length);
      assert.ok(together.stored.equals(encodeBlock(plain)), 'nothing apart: stored as encodeBlock');
      const apart = sealBlock(number, previousHash, transactions, isLargeWrite);
      assert.deepEqual(apart.block, plain);
      assert.equal(apart.size, encodeBlock(plain).length);
      assert.ok(apart.stored.equals(encodeStoredBlock(plain)), 'large values apart: encodeStoredBlock');
    }),
    { numRuns: 500 },
  );
});

const utf8 = (args: readonly string[]): Buffer[] => args.map((a) => Buffer.from(a, 'utf8'));

test('argsHashOf is sha256Hex(canonicalJson(args)): escapes, non-ASCII, lone surrogates, control characters', () => {
  const definition = (args: readonly string[]) => sha256Hex(canonicalJson(args));
  fc.assert(
    fc.property(fc.array(fc.oneof(trickyString, anyString), { maxLength: 5 }), (args) => {
      assert.equal(argsHashOf(args, utf8(args)), definition(args));
    }),
    { numRuns: 2000 },
  );
  const receipts = makeReceipts(3);
  for (const args of [[], [''], receipts, [JSON.stringify(receipts)], ['a', '"\\\n'], ['\ud800x']]) {
    assert.equal(argsHashOf(args, utf8(args)), definition(args), JSON.stringify(args).slice(0, 40));
  }
});

test('a committed block carries the plain args hash of every transaction', async (t) => {
  const ledger = await openKvLedger(t);
  const id = await ledger.createIdentity({
    mspId: 'Org1MSP',
    name: 'h',
    attrs: { 'torgo.role': 'appender' },
  });
  const calls = [
    ['k1', 'plain'],
    ['k2', 'line one\nline "two" \\ — é'],
    ['k3', 'tab\tand \u0001 control'],
    ['k4', 'lone \ud800 surrogate'],
  ];
  for (const args of calls) {
    const { blockNumber, txNumber } = await ledger.submit(id, 'put', args);
    const tx = (await ledger.getBlock(blockNumber)).transactions[txNumber]!;
    assert.equal(tx.argsHash, sha256Hex(canonicalJson(args)), args[1]);
  }
});

test('blocks served from memory after commit equal the blocks read back from disk, and are frozen throughout', async (t) => {
  const tmp = await tempDir(t);
  const ledger = await openKv(tmp.dir);
  const id = await ledger.createIdentity({
    mspId: 'Org1MSP',
    name: 'a',
    attrs: { 'torgo.role': 'appender' },
  });
  // Blocks of one and of several transactions (concurrent submits share a block), a delete, an event.
  await ledger.submit(id, 'put', ['a', 'one']);
  await Promise.all(['b', 'c', 'd'].map((k) => ledger.submit(id, 'put', [k, `é ${k}`])));
  await ledger.submit(id, 'del', ['a']);
  const fromMemory: Block[] = [];
  for (let n = 0; n < ledger.height; n++) fromMemory.push(await ledger.getBlock(n));
  const unfrozen = (value: unknown, at: string): string[] =>
    value !== null && typeof value === 'object'
      ? [
          ...(Object.isFrozen(value) ? [] : [at]),
          ...Object.entries(value).flatMap(([k, v]) => unfrozen(v, `${at}.${k}`)),
        ]
      : [];
  assert.deepEqual(
    fromMemory.flatMap((b, n) => unfrozen(b, `block ${n}`)),
    [],
    'every object of a kept block is frozen',
  );
  assert.ok(fromMemory.some((b) => b.transactions.some((tx) => tx.event !== null && tx.writeSet.length > 0)));
  assert.throws(() => {
    (fromMemory[0]!.transactions as unknown[]).push(null);
  }, TypeError);
  await ledger.close();
  const reopened = await openKv(tmp.dir); // nothing in memory: every block decoded from LevelDB
  tmp.closeLater(reopened);
  for (const [n, block] of fromMemory.entries()) {
    const stored = await reopened.getBlock(n);
    assert.ok(!Object.isFrozen(stored), 'read back from disk');
    assert.deepStrictEqual(JSON.parse(JSON.stringify(block)), stored);
    assert.deepEqual(block, stored);
  }
  assert.ok(fromMemory.length >= 3);
});

test('the certificate parse memo: same identity from the same certificate, distinct ones stay distinct', async (t) => {
  const ledger = await openKvLedger(t);
  const a = await ledger.createIdentity({ mspId: 'Org1MSP', name: 'a', attrs: { 'torgo.role': 'appender' } });
  const b = await ledger.createIdentity({ mspId: 'Org1MSP', name: 'b', attrs: { 'torgo.role': 'auditor' } });
  const identityOf = (certificate: string) => {
    const creator = { mspid: 'Org1MSP', idBytes: Buffer.from(certificate) };
    return new ShimClientIdentity({ getChannelID: () => 'c', getTxID: () => 't', getCreator: () => creator });
  };
  const [a1, a2, b1] = [identityOf(a.certificate), identityOf(a.certificate), identityOf(b.certificate)];
  assert.equal(a1.getID(), a2.getID());
  assert.equal(a1.getAttributeValue('torgo.role'), 'appender');
  assert.equal(a2.getAttributeValue('torgo.role'), 'appender');
  assert.equal(b1.getAttributeValue('torgo.role'), 'auditor');
  assert.notEqual(a1.getID(), b1.getID());
  assert.match(b1.getID(), /CN=b/);
  assert.throws(() => identityOf('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'));
});

test('winston drops below-level messages before formatting, and still writes the rest', () => {
  chaincodeFromContracts([KvContract], 'kv', '0.0.0'); // installs the trimmed paths
  const requireFromShim = createRequire(createRequire(import.meta.url).resolve('fabric-shim'));
  const winston = requireFromShim('winston') as {
    createLogger(o: object): {
      level: string;
      debug(m: string): void;
      info(m: string): void;
      error(m: string, ...a: unknown[]): void;
    };
    format: { printf(f: (i: { message: string }) => string): unknown };
  };
  const Transport = requireFromShim('winston-transport') as new (o?: object) => object;
  const seen: string[] = [];
  let formatted = 0;
  class Recorder extends Transport {
    log(info: { message: string; level: string }, done: () => void): void {
      seen.push(`${info.level}:${info.message}`);
      done();
    }
  }
  const logger = winston.createLogger({
    level: 'info',
    format: winston.format.printf((i) => {
      formatted++;
      return i.message;
    }),
    transports: [new Recorder()],
  });
  logger.debug('hidden');
  logger.info('shown');
  logger.error('also shown', { x: 1 });
  assert.deepEqual(seen, ['info:shown', 'error:also shown']);
  assert.equal(formatted, 2);
  logger.level = 'debug';
  logger.debug('now shown');
  assert.deepEqual(seen.at(-1), 'debug:now shown');
});

test("handleParameters: plain string parameters take the short cut, with the full path's result (also for the engine's buffers that carry their text); the rest the full path", () => {
  chaincodeFromContracts([KvContract], 'kv', '0.0.0'); // installs the trimmed paths
  const { DataMarshall, JSONSerializer, shimLogger } = shimInternals();
  type Marshall = DataMarshallModule['prototype'] & { fromWireBuffer(...a: unknown[]): unknown };
  const Ctor = DataMarshall as unknown as new (s: string, all: object, components: object) => Marshall;
  const marshall = new Ctor('jsonSerializer', { jsonSerializer: JSONSerializer }, {});
  let full = 0;
  const fromWireBuffer = marshall.fromWireBuffer.bind(marshall);
  marshall.fromWireBuffer = (...a: unknown[]) => {
    full++;
    return fromWireBuffer(...a);
  };
  const plain = (n: number) => ({
    parameters: Array.from({ length: n }, () => ({ schema: { type: 'string' } })),
  });
  // The same type with one more (harmless) keyword: always the full path.
  const described = (n: number) => ({
    parameters: Array.from({ length: n }, () => ({ schema: { type: 'string', description: 'x' } })),
  });
  const bytes = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }).map((t) => Buffer.from(t, 'utf8')),
    fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)), // not always UTF-8
    // The engine's arguments, carrying their text when it is well formed (lone surrogates: not).
    fc
      .string({ unit: fc.constantFrom('a', '"', 'é', '—', '\uD800', '\uDC00', '😀'), maxLength: 40 })
      .map(utf8WithText),
  );
  fc.assert(
    fc.property(fc.array(bytes, { maxLength: 4 }), (parameters) => {
      const before = full;
      const short = marshall.handleParameters(plain(parameters.length), parameters, '[p]');
      assert.equal(full, before, 'the short cut ran');
      const long = marshall.handleParameters(described(parameters.length), parameters, '[p]');
      assert.equal(full, before + parameters.length, 'the full path ran');
      assert.deepEqual(short, long);
      assert.deepEqual(
        short,
        parameters.map((p) => p.toString('utf8')),
      );
    }),
    { numRuns: 300 },
  );
  // A count mismatch: the full path and its error.
  assert.throws(() => marshall.handleParameters(plain(2), [Buffer.from('a')], '[p]'), {
    message: 'Expected 2 parameters, but 1 have been supplied',
  });
  // Other types: the full path (a number is parsed).
  const before = full;
  assert.deepEqual(
    marshall.handleParameters({ parameters: [{ schema: { type: 'number' } }] }, [Buffer.from('42')], '[p]'),
    [42],
  );
  assert.equal(full, before + 1);
  // With debug lines on, the full path writes them: no short cut.
  const logger = shimLogger.getLogger('contracts-spi/datamarshall.js') as WinstonLogger & {
    level: string;
    silent: boolean;
  };
  const { level, silent } = logger;
  try {
    logger.silent = true;
    logger.level = 'debug';
    assert.deepEqual(marshall.handleParameters(plain(1), [Buffer.from('a')], '[p]'), ['a']);
    assert.equal(full, before + 2);
  } finally {
    logger.level = level;
    logger.silent = silent;
  }
});

/** sha256 of fabric-shim 2.5.8's `invokeFunctionality` source, which chaincode/fabric-invoke.ts ports. */
const PORTED_INVOKE_SOURCE = '9f542649c43ee39a0ddcc064927ab4d938aaa736499c8711446621a4154807ba';

test('the dispatcher without eager debug lines answers every invocation exactly as the original', async (t) => {
  const ledger = await openKvLedger(t); // installs the trimmed paths
  const original = originalInvokeFunctionality() as (...a: unknown[]) => unknown;
  const source = createHash('sha256').update(original.toString()).digest('hex');
  assert.equal(source, PORTED_INVOKE_SOURCE, 'fabric-shim changed invokeFunctionality: port it again');
  const proto = (shimInternals().ChaincodeFromContract as { prototype: { invokeFunctionality: unknown } })
    .prototype;
  const trimmed = proto.invokeFunctionality;
  assert.notEqual(trimmed, original);
  const id = await ledger.createIdentity({
    mspId: 'Org1MSP',
    name: 'a',
    attrs: { 'torgo.role': 'appender' },
  });
  await ledger.submit(id, 'put', ['a', `"é"\n${'x'.repeat(3000)}`]);
  const calls: Array<[string, string[]]> = [
    ['get', ['a']],
    ['kv:get', ['a']],
    ['get', ['missing']],
    ['range', ['', '']],
    ['whoami', []],
    ['failAfterWrite', ['k', 'v']],
    ['nope', []],
    ['other:get', ['a']],
    ['get', []],
    ['get', ['a', 'b']],
    ['', []],
  ];
  const outcome = async (fcn: string, args: string[]) => {
    try {
      return { payload: Buffer.from((await ledger.evaluate(id, fcn, args)).payload).toString('base64') };
    } catch (e) {
      return { error: `${(e as { code?: string }).code}: ${(e as Error).message}` };
    }
  };
  try {
    for (const [fcn, args] of calls) {
      proto.invokeFunctionality = original;
      const expected = await outcome(fcn, args);
      proto.invokeFunctionality = trimmed;
      assert.deepEqual(await outcome(fcn, args), expected, `${fcn}(${args.join(', ')})`);
    }
  } finally {
    proto.invokeFunctionality = trimmed;
  }
});

/** A state of `n` keys, values from a few bytes to past the iterators' 16 KiB batch budget, some under `v/`. */
async function rangeState(t: TestContext, n: number): Promise<StateView> {
  const { dir, closeLater } = await tempDir(t);
  const db = await openDb(path.join(dir, 'db'));
  closeLater(db);
  const ops: { type: 'put'; key: string; value: Buffer }[] = [];
  for (let i = 0; i < n; i++) {
    const key = `k${String(i).padStart(3, '0')}${i % 7 === 0 ? 'é' : ''}`;
    const value = Buffer.from(`${i}:${'v'.repeat([3, 200, 9000, 20000][i % 4]!)}`);
    const version = { blockNum: i + 1, txNum: i % 3 };
    if (i % 2 === 0) {
      ops.push({ type: 'put', key: stateKey(key), value: encodeState(value, version) });
    } else {
      ops.push({ type: 'put', key: valueKey(version, 0), value });
      ops.push({ type: 'put', key: stateKey(key), value: encodeStateRef(version, 0) });
    }
  }
  await db.batch(ops);
  return new StateView(db);
}

async function plainRange(view: StateView, range: KeyRange): Promise<VersionedKV[]> {
  const out: VersionedKV[] = [];
  for await (const kv of view.range(range)) out.push(kv);
  return out;
}

const RANGE_KEYS = ['', 'k', 'k000', 'k005', 'k007é', 'k010', 'k023', 'k039', 'k040', 'z'];

test('rangeEntries reads what range yields, batches cut short by their byte budget included', async (t) => {
  const view = await rangeState(t, 40);
  for (const gte of RANGE_KEYS) {
    for (const lt of [...RANGE_KEYS, undefined]) {
      const range: KeyRange = lt === undefined ? { gte } : { gte, lt };
      const all = await plainRange(view, range);
      for (const limit of [1, 2, 3, 5, 17, 40, 41, 100]) {
        assert.deepEqual(
          await view.rangeEntries(range, limit),
          all.slice(0, limit),
          `${gte}..${lt} ${limit}`,
        );
      }
    }
  }
});

test("a paginated range query's page, bookmark and recorded range are those of a scan pulled page-size times", async (t) => {
  const view = await rangeState(t, 40);
  const tx = { txId: 't', bufferArgs: [], totalQueryLimit: 25 } as unknown as TxContext;
  for (const start of RANGE_KEYS) {
    for (const end of RANGE_KEYS) {
      for (const [pageSize, bookmark] of [
        [1, ''],
        [3, ''],
        [10, 'k012'],
        [40, ''],
        [0, 'k020'],
        [25, ''],
      ] as const) {
        const sim = new TxSimulation('t');
        const stub = new EmbeddedStub(tx, view, sim);
        const { iterator, metadata } = await stub.getStateByRangeWithPagination(
          start,
          end,
          pageSize,
          bookmark,
        );
        const got: { key: string; value: Uint8Array }[] = [];
        for (let r = await iterator.next(); !r.done; r = await iterator.next()) got.push(r.value);
        // The definition: a scan from the bookmark (or the start) pulled at most `limit` times, the
        // next key peeked without being recorded.
        const limit = pageSize > 0 && pageSize < 25 ? pageSize : 25;
        const from = bookmark || start || '\u0001';
        const all = await plainRange(view, end ? { gte: from, lt: end } : { gte: from });
        const page = all.slice(0, limit);
        const label = `${start}..${end} ${pageSize} ${bookmark}`;
        assert.deepEqual(
          got.map((kv) => [kv.key, Buffer.from(kv.value)]),
          page.map((kv) => [kv.key, kv.value]),
          label,
        );
        assert.deepEqual(
          metadata,
          { fetchedRecordsCount: page.length, bookmark: all[limit]?.key ?? '' },
          label,
        );
        const exhausted = all.length < limit;
        const expected = {
          startKey: from,
          endKey: exhausted ? end : (page[page.length - 1]?.key ?? ''),
          itrExhausted: exhausted,
          reads: page.map((kv) => ({ key: kv.key, version: kv.version })),
        };
        assert.deepEqual(
          sim.readSet.rangeQueries,
          expected.itrExhausted || page.length > 0 ? [expected] : [],
          label,
        );
      }
    }
  }
});
