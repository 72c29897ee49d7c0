/**
 * The engine's fast paths against their plain definitions: canonical JSON, key order, block sealing,
 * and the three dispatcher costs trimmed in shim.ts (certificate parse memo, level check before
 * formatting, debug lines built only when debug is on). Each must give exactly what the plain version gives.
 */
import './quiet-logs.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type Block,
  type BlockTransaction,
  buildBlock,
  encodeBlock,
  sealBlock,
} from '../../engine/blockstore.js';
import { originalInvokeFunctionality, shimInternals } from '../../chaincode/fabric-internals.js';
import { canonicalJson } from '../../engine/canonical.js';
import { chaincodeFromContracts, ShimClientIdentity } from '../../engine/shim.js';
import { compareKeys } from '../../engine/state.js';
import { openKv, openKvLedger, tempDir } from './helpers.js';
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

test('sealBlock stores exactly encodeBlock(buildBlock(…))', () => {
  const tx = (n: number): BlockTransaction => ({
    txId: `tx${n}`,
    timestamp: { seconds: 1_700_000_000 + n, nanos: n * 1000 },
    creator: { mspId: 'Org1MSP', id: 'x509::/OU=client/CN=a\\/b::/CN=ca' },
    fcn: 'appendReceipt',
    argsHash: 'ab'.repeat(32),
    readSetHash: 'cd'.repeat(32),
    writeSet: [
      { key: `receipt!${n}`, isDelete: false, value: Buffer.from(`value ${n} é`).toString('base64') },
      { key: `gone${n}`, isDelete: true, value: '' },
    ],
    validationCode: n % 3 === 0 ? 'MVCC_READ_CONFLICT' : 'VALID',
    event: n % 2 ? { name: 'E', payload: 'AAEC' } : null,
  });
  for (const count of [0, 1, 7]) {
    const transactions = Array.from({ length: count }, (_, i) => tx(i));
    const sealed = sealBlock(count, 'ef'.repeat(32), transactions);
    const plain = buildBlock(count, 'ef'.repeat(32), transactions);
    assert.deepEqual(sealed.block, plain);
    assert.ok(sealed.bytes.equals(encodeBlock(plain)));
  }
});

test('blocks served from memory after commit equal the blocks read back from disk, and are frozen', async (t) => {
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
  assert.ok(fromMemory.every((b) => Object.isFrozen(b) && Object.isFrozen(b.transactions[0]!.writeSet)));
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
