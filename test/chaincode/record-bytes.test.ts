/**
 * The contract's receipt records are written as `jsonBytes(record)`, whose `.mu` is escaped byte-wise
 * from its UTF-8 (chaincode/json.ts `jsonBytesWithUtf8`, chaincode/receipts.ts `recordBytes`). Held
 * to the definition on random objects, on real records, and through a ledger: the bytes stored under
 * `receipt!<id>` are the canonical JSON of the record they decode to, whose `mu` is the text appended,
 * with the contract parsing the text itself and with a parse handed over from bytes (as the gateway does).
 */
import './quiet-logs.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import fc from 'fast-check';
import { auditContracts } from '../../chaincode/contract.js';
import { type Json, jsonBytes, jsonBytesWithUtf8 } from '../../chaincode/json.js';
import { type ReceiptRecord, receiptStateKey, recordBytes, recordOf } from '../../chaincode/receipts.js';
import { platformMlDsa } from '../../core/crypto/backend.js';
import { parseReceipt, ReceiptHandOff } from '../../core/index.js';
import { EmbeddedLedger } from '../../engine/index.js';
import { trickyString } from '../core/tricky-strings.js';
import { pem, signedReceipt, testKey } from './ledger.js';

const key = fc.oneof(
  fc.constantFrom(
    'mu',
    'a',
    'mu0',
    'm',
    'mt',
    'mv',
    '',
    '__proto__',
    'constructor',
    'é',
    '\ud800',
    '\u{1f600}',
  ),
  fc.string({ unit: 'binary', maxLength: 4 }),
);
const value: fc.Arbitrary<Json | undefined> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.maxSafeInteger(),
    trickyString,
    fc.array(tie('value').filter((v) => v !== undefined)),
    fc.dictionary(key, tie('value')),
  ),
})).value as fc.Arbitrary<Json | undefined>;

it('jsonBytesWithUtf8 is jsonBytes: random objects, the text property anywhere in key order', () => {
  fc.assert(
    fc.property(fc.dictionary(key, value), key, trickyString, (object, name, text) => {
      const record = { ...object, [name]: text } as { [k: string]: Json | undefined };
      const bytes = jsonBytesWithUtf8(record, name, Buffer.from(text, 'utf8'));
      assert.deepEqual(Buffer.from(bytes), Buffer.from(jsonBytes(record)));
    }),
    { numRuns: 3000 },
  );
});

it('jsonBytesWithUtf8 is jsonBytes when the named property is absent or not a string', () => {
  const none = Buffer.alloc(0);
  for (const record of [{}, { a: 1 }, { mu: 5, z: 'x' }, { mu: null }, { mu: ['a'] }]) {
    assert.deepEqual(Buffer.from(jsonBytesWithUtf8(record, 'mu', none)), Buffer.from(jsonBytes(record)));
  }
});

/** A record as appendOne builds it, for a caller whose certificate id needs JSON escapes. */
function recordFor(mu: string): ReceiptRecord {
  const caller = { mspId: 'Org1MSP', id: 'x509::CN=a "b" \\ é::CN=ca', roles: new Set<never>() };
  return recordOf(mu, parseReceipt(mu), {
    caller,
    txId: 'a'.repeat(64),
    time: '2026-12-02T09:00:00.000000000Z',
  });
}

/** Intents a receipt may carry that JSON escapes or UTF-8 encodes on more than one byte. */
const INTENTS = [
  'Forward vitals batch 42 to the EHR bridge.',
  'Say "hello" \\ and a back\\\\slash.',
  'Astral 😀𝄞 and BMP é — ☃ 漢字',
  '"\\"\\\\"',
];

it('recordBytes is jsonBytes(record) on real signed receipts', () => {
  const signer = testKey(7);
  for (const intent of INTENTS) {
    const mu = signedReceipt([signer], { intent });
    const record = recordFor(mu);
    assert.deepEqual(
      Buffer.from(recordBytes(record, parseReceipt(mu).bytes)),
      Buffer.from(jsonBytes(record)),
      intent,
    );
  }
});

/** The bytes the ledger committed under `key` in the transaction at (block, tx). */
async function committedValue(
  ledger: EmbeddedLedger,
  at: { blockNumber: number; txNumber: number },
  key: string,
): Promise<Buffer> {
  const block = await ledger.getBlock(at.blockNumber);
  const write = block.transactions[at.txNumber]!.writeSet.find((w) => w.key === key);
  assert.ok(write, `the transaction wrote ${key}`);
  return Buffer.from(write.value, 'base64');
}

function assertStoredRecord(stored: Buffer, mu: string): void {
  const record = JSON.parse(stored.toString('utf8')) as ReceiptRecord;
  assert.equal(record.mu, mu, 'the stored record holds the text appended');
  assert.deepEqual(stored, Buffer.from(jsonBytes(record)), 'stored bytes are jsonBytes(record)');
}

it('through a ledger, stored records are jsonBytes(record): parsed by the contract or handed over from bytes', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'torgo-record-bytes-'));
  const handOff = new ReceiptHandOff();
  const ledger = await EmbeddedLedger.open({
    dir,
    contracts: auditContracts(platformMlDsa, handOff),
    chaincodeLogLevel: 'CRITICAL',
  });
  try {
    const appender = await ledger.createIdentity({
      mspId: 'Org1MSP',
      name: 'app "quoted" é',
      attrs: { 'torgo.role': 'appender' },
    });
    const signer = testKey(8);
    await ledger.submit(appender, 'registerKey', [pem(signer), 'signer']);
    const texts = INTENTS.map((intent) => signedReceipt([signer], { intent }));

    // One per transaction, parsed by the contract.
    for (const mu of texts) {
      const at = await ledger.submit(appender, 'appendReceipt', [mu]);
      assertStoredRecord(
        await committedValue(ledger, at, receiptStateKey(parseReceipt(mu).document.fields.id)),
        mu,
      );
    }
    // A batch whose parses were handed over, each from bytes at an odd offset in its buffer.
    const batch = INTENTS.map((intent) => signedReceipt([signer], { intent: `${intent} (batch)` }));
    for (const mu of batch) {
      const bytes = Buffer.concat([Buffer.from('x'), Buffer.from(mu, 'utf8')]).subarray(1);
      handOff.give(mu, parseReceipt(bytes));
    }
    const at = await ledger.submit(appender, 'appendReceipts', [JSON.stringify(batch)]);
    assert.equal(handOff.size, 0, 'the contract took every parse handed over');
    for (const mu of batch) {
      assertStoredRecord(
        await committedValue(ledger, at, receiptStateKey(parseReceipt(mu).document.fields.id)),
        mu,
      );
    }
  } finally {
    await ledger.close();
    await rm(dir, { recursive: true, force: true });
  }
});
