/** Appending receipts: single and batch, idempotency, conflicts, every rejection reason, events. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseReceipt } from '../../core/index.js';
import {
  type Cast,
  eventJson,
  idOf,
  json,
  nextId,
  LEDGERS,
  openCast,
  partyOf,
  pem,
  register,
  rejectsWith,
  signedReceipt,
  testKey,
  unsignedReceipt,
} from './ledger.js';

type Entry = {
  id: string;
  digest: string;
  source: string;
  operation: string;
  subject: string;
  occurredAt: string;
  signerKeyIds: string[];
  submitter: { mspId: string; id: string };
  txId: string;
  committedAt: string;
  revokedSigners: { keyId: string; revokedAt: string; reason: string }[];
  status: 'appended' | 'existing' | 'duplicate';
  mu?: string;
};

for (const kind of LEDGERS)
  describe(`append (${kind})`, () => {
    let cast: Cast;
    const device = testKey(100); // registered by alice, submitted through the relay
    const witness = testKey(101); // registered by bob
    before(async () => {
      cast = await openCast(kind);
      await register(cast, cast.alice, device, 'infusion pump 7');
      await register(cast, cast.bob, witness, 'witness');
    });
    after(() => cast.ledger.close());

    it('appends one receipt: record fields, signer and submitter, index keys, one event', async () => {
      const mu = signedReceipt([device], { source: 'pump-7', subject: 'urn:torgo:subject:a1' });
      const receipt = parseReceipt(mu);
      const out = await cast.ledger.submit(cast.relay, 'appendReceipt', mu);
      const entry = json<Entry>(out.result);
      assert.equal(entry.status, 'appended');
      assert.equal(entry.id, receipt.document.fields.id);
      assert.equal(entry.digest, receipt.digest);
      assert.equal(entry.source, 'pump-7');
      assert.equal(entry.operation, 'vitals.forward');
      assert.equal(entry.subject, 'urn:torgo:subject:a1');
      assert.equal(entry.occurredAt, '2026-11-25T13:07:48.123Z');
      assert.deepEqual(entry.signerKeyIds, [device.keyId]);
      // The relay submitted what the device (owned by alice) signed: both are on record.
      assert.deepEqual(entry.submitter, partyOf(cast.relay));
      assert.notDeepEqual(entry.submitter, partyOf(cast.alice));
      assert.deepEqual(entry.revokedSigners, []);
      assert.equal(entry.mu, undefined, 'append answers leave the text out');
      assert.match(entry.committedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/);
      assert.equal(out.writes.length, 7, 'the record and six index keys, nothing shared');
      assert.ok(out.writes.includes(`receipt!${entry.id}`));
      assert.ok(out.writes.every((k) => k === `receipt!${entry.id}` || k.startsWith('idx!')));
      const ev = eventJson(out);
      assert.equal(ev.name, 'ReceiptsAppended');
      assert.deepEqual(ev.payload, {
        ids: [entry.id],
        receipts: [{ digest: entry.digest, id: entry.id }],
        txId: entry.txId,
        // The transparency log's entry, in full (docs/bundle-format.md §2; the builder adds the block
        // and, format 2, the chain pointers: §6.1).
        logFormat: 2,
        entries: [
          {
            committedAt: entry.committedAt,
            digest: entry.digest,
            id: entry.id,
            kind: 'receipt',
            signers: [device.keyId],
            source: entry.source,
            subject: 'urn:torgo:subject:a1',
            submitter: partyOf(cast.relay),
            txId: entry.txId,
          },
        ],
      });
      const stored = json<Entry>(await cast.ledger.evaluate(cast.auditor, 'getReceipt', entry.id));
      assert.equal(stored.mu, mu);
      assert.deepEqual({ ...stored, mu: undefined, status: 'appended' }, { ...entry, mu: undefined });
    });

    it('accepts several signatures when every signer key is registered and active', async () => {
      const mu = signedReceipt([device, witness]);
      const entry = json<Entry>((await cast.ledger.submit(cast.bob, 'appendReceipt', mu)).result);
      assert.deepEqual(entry.signerKeyIds, [device.keyId, witness.keyId].sort());
    });

    it('is idempotent: the same bytes again return the stored record and write nothing', async () => {
      const mu = signedReceipt([device]);
      const first = json<Entry>((await cast.ledger.submit(cast.relay, 'appendReceipt', mu)).result);
      const again = await cast.ledger.submit(cast.alice, 'appendReceipt', mu);
      const second = json<Entry>(again.result);
      assert.equal(second.status, 'existing');
      assert.deepEqual(
        { ...second, status: 'appended' },
        first,
        'txId, committedAt and submitter are the first append’s',
      );
      assert.deepEqual(again.writes, []);
      assert.equal(again.event, undefined, 'no event for a transaction that wrote nothing');
    });

    it('same id with other bytes is RECEIPT_CONFLICT, whoever signed', async () => {
      const id = nextId();
      await cast.ledger.submit(cast.relay, 'appendReceipt', signedReceipt([device], { id }));
      await rejectsWith(
        cast.ledger.submit(
          cast.relay,
          'appendReceipt',
          signedReceipt([device], { id, intent: 'Something else.' }),
        ),
        'RECEIPT_CONFLICT',
        new RegExp(id),
      );
      // Another signature set over the same text is other bytes too.
      await rejectsWith(
        cast.ledger.submit(cast.relay, 'appendReceipt', signedReceipt([device, witness], { id })),
        'RECEIPT_CONFLICT',
      );
    });

    it('appends a batch atomically, in order, with one event listing the new ids', async () => {
      const existing = signedReceipt([device]);
      await cast.ledger.submit(cast.relay, 'appendReceipt', existing);
      const fresh = [signedReceipt([device]), signedReceipt([witness]), signedReceipt([device, witness])];
      const batch = [fresh[0]!, existing, fresh[1]!, fresh[0]!, fresh[2]!];
      const out = await cast.ledger.submit(cast.relay, 'appendReceipts', JSON.stringify(batch));
      const { receipts } = json<{ receipts: Entry[] }>(out.result);
      assert.deepEqual(
        receipts.map((r) => r.status),
        ['appended', 'existing', 'appended', 'duplicate', 'appended'],
      );
      assert.deepEqual(
        receipts.map((r) => r.id),
        batch.map(idOf),
      );
      const ids = fresh.map(idOf);
      assert.equal(out.writes.length, 3 * 7);
      const ev = eventJson(out);
      assert.deepEqual(ev.payload['ids'], ids);
      const txIds = new Set(receipts.filter((r) => r.status !== 'existing').map((r) => r.txId));
      assert.equal(txIds.size, 1, 'one transaction');
      for (const id of ids)
        assert.equal(json<Entry>(await cast.ledger.evaluate(cast.auditor, 'getReceipt', id)).id, id);
    });

    it('a batch with one bad item fails whole, naming the item', async () => {
      const good = signedReceipt([device]);
      const unknownSigner = signedReceipt([testKey(199)]);
      await rejectsWith(
        cast.ledger.submit(cast.relay, 'appendReceipts', JSON.stringify([good, unknownSigner])),
        'KEY_UNKNOWN',
        /\(batch item 1\)$/,
      );
      await rejectsWith(cast.ledger.evaluate(cast.auditor, 'getReceipt', idOf(good)), 'NOT_FOUND');
      const id = nextId();
      const conflict = [signedReceipt([device], { id }), signedReceipt([device], { id, intent: 'Other.' })];
      await rejectsWith(
        cast.ledger.submit(cast.relay, 'appendReceipts', JSON.stringify(conflict)),
        'RECEIPT_CONFLICT',
      );
      await rejectsWith(
        cast.ledger.submit(cast.relay, 'appendReceipts', JSON.stringify([good, `${good}x`])),
        'RECEIPT_INVALID',
        /^RECEIPT_INVALID: E_RECEIPT_NOT_CANONICAL: .*\(batch item 1\)$/,
      );
    });

    it('a batch reports the first bad item in order, its signatures included (checks overlap, verdicts do not)', async () => {
      // Text of one receipt under the signature of another: parses, verifies false.
      const forged = (): string => {
        const [a, b] = [signedReceipt([device]), signedReceipt([device])];
        return `${a.slice(0, a.indexOf('\n— '))}${b.slice(b.indexOf('\n— '))}`;
      };
      const good = signedReceipt([device]);
      const notCanonical = `${signedReceipt([device])}x`;
      const unknownSigner = signedReceipt([testKey(198)]);
      const cases: [string[], string, RegExp][] = [
        [
          [good, forged(), notCanonical],
          'RECEIPT_INVALID',
          /^RECEIPT_INVALID: E_SIGNATURE_INVALID: .*\(batch item 1\)$/,
        ],
        [
          [good, notCanonical, forged()],
          'RECEIPT_INVALID',
          /^RECEIPT_INVALID: E_RECEIPT_NOT_CANONICAL: .*\(batch item 1\)$/,
        ],
        [[forged(), unknownSigner], 'RECEIPT_INVALID', /E_SIGNATURE_INVALID: .*\(batch item 0\)$/],
        [[good, unknownSigner, forged()], 'KEY_UNKNOWN', /\(batch item 1\)$/],
        [[good, good, forged(), forged()], 'RECEIPT_INVALID', /E_SIGNATURE_INVALID: .*\(batch item 2\)$/],
      ];
      const id = nextId();
      // A forged receipt whose id a later, validly signed item reuses: the forgery still fails first.
      const bad = forged().replace(/^di: .*$/m, `di: ${[...id].reverse().join('')}`);
      assert.equal(parseReceipt(bad).document.fields.id, id);
      const conflicting = signedReceipt([device], { id, intent: 'Other.' });
      cases.push([[good, bad, conflicting], 'RECEIPT_INVALID', /E_SIGNATURE_INVALID: .*\(batch item 1\)$/]);
      for (const [batch, code, message] of cases) {
        await rejectsWith(
          cast.ledger.submit(cast.relay, 'appendReceipts', JSON.stringify(batch)),
          code,
          message,
        );
      }
      await rejectsWith(
        cast.ledger.submit(cast.relay, 'appendReceipt', forged()),
        'RECEIPT_INVALID',
        /E_SIGNATURE_INVALID/,
      );
      await rejectsWith(cast.ledger.evaluate(cast.auditor, 'getReceipt', idOf(good)), 'NOT_FOUND');
    });

    it('bounds batches: BATCH_TOO_LARGE past 100 receipts, BAD_REQUEST for what is not a list of texts', async () => {
      const mu = signedReceipt([device]);
      await rejectsWith(
        cast.ledger.submit(cast.relay, 'appendReceipts', JSON.stringify(Array(101).fill(mu))),
        'BATCH_TOO_LARGE',
        /at most 100/,
      );
      await rejectsWith(
        cast.ledger.submit(cast.relay, 'appendReceipts', JSON.stringify(Array(60).fill('x'.repeat(80_000)))),
        'BATCH_TOO_LARGE',
        /bytes/,
      );
      for (const arg of ['', '[]', '{}', '[1]', mu, '["a",null]']) {
        await rejectsWith(cast.ledger.submit(cast.relay, 'appendReceipts', arg), 'BAD_REQUEST');
      }
    });

    it('rejects every invalid receipt with RECEIPT_INVALID and the core code', async () => {
      const mu = signedReceipt([device]);
      const cases: [string, string][] = [
        ['not a receipt\n', 'E_RECEIPT_SYNTAX'],
        [mu.replace(/\n$/, '\r\n'), 'E_RECEIPT_NOT_CANONICAL'],
        [mu.slice(0, -1), 'E_RECEIPT_NOT_CANONICAL'],
        ['x'.repeat(100_000), 'E_RECEIPT_TOO_LARGE'],
        [mu.replace('ecruos:', 'ecruoz:'), 'E_RECEIPT_FIELD_UNKNOWN'],
        [mu.replace(/\n— [0-9a-f]{64} /, '\n— nothex '), 'E_SIGNATURE_SYNTAX'],
        [unsignedReceipt(), 'E_SIGNATURE_MISSING'],
      ];
      for (const [text, code] of cases) {
        await rejectsWith(
          cast.ledger.submit(cast.relay, 'appendReceipt', text),
          'RECEIPT_INVALID',
          new RegExp(`^RECEIPT_INVALID: ${code}: `),
        );
      }
    });

    it('rejects a signature that does not verify, and one of another parameter set', async () => {
      const mu = signedReceipt([device]);
      // Same id and signature over a different text: the text changed after signing.
      const lines = mu.split('\n');
      const tampered = mu.replace(
        '.egdirb RHE eht ot 24 hctab slativ drawroF',
        '.egdirb RHE eht ot 34 hctab slativ drawroF',
      );
      assert.notEqual(tampered, mu);
      await rejectsWith(
        cast.ledger.submit(cast.relay, 'appendReceipt', tampered),
        'RECEIPT_INVALID',
        /^RECEIPT_INVALID: E_SIGNATURE_INVALID: /,
      );
      // An ML-DSA-44 signature placed under an ML-DSA-65 key id.
      const small = testKey(102, 'ML-DSA-44');
      const other = signedReceipt([small]);
      const sig44 = other.trimEnd().split('\n').at(-1)!.split(' ')[2]!;
      const swapped = `${lines.slice(0, -2).join('\n')}\n— ${device.keyId} ${sig44}\n`;
      await rejectsWith(
        cast.ledger.submit(cast.relay, 'appendReceipt', swapped),
        'RECEIPT_INVALID',
        /^RECEIPT_INVALID: E_KEY_ALGORITHM: /,
      );
      // One good and one bad signature: still invalid.
      const both = signedReceipt([device, witness]).split('\n');
      const last = both.at(-2)!;
      const at = last.length - 200;
      both[both.length - 2] = `${last.slice(0, at)}${last[at] === 'A' ? 'B' : 'A'}${last.slice(at + 1)}`;
      await rejectsWith(
        cast.ledger.submit(cast.relay, 'appendReceipt', both.join('\n')),
        'RECEIPT_INVALID',
        /^RECEIPT_INVALID: E_SIGNATURE_INVALID: /,
      );
    });

    it('refuses unknown, retired and revoked signer keys', async () => {
      await rejectsWith(
        cast.ledger.submit(cast.relay, 'appendReceipt', signedReceipt([testKey(110)])),
        'KEY_UNKNOWN',
      );
      const retiring = testKey(111);
      await register(cast, cast.alice, retiring);
      const signedBefore = signedReceipt([retiring]);
      await cast.ledger.submit(cast.alice, 'rotateKey', retiring.keyId, pem(testKey(112)));
      await rejectsWith(cast.ledger.submit(cast.relay, 'appendReceipt', signedBefore), 'KEY_NOT_ACTIVE');
      const revoking = testKey(113);
      await register(cast, cast.alice, revoking);
      await cast.ledger.submit(cast.alice, 'revokeKey', revoking.keyId, 'lost');
      await rejectsWith(
        cast.ledger.submit(cast.relay, 'appendReceipt', signedReceipt([revoking])),
        'KEY_REVOKED',
      );
      // One revoked signer among valid ones is enough to refuse.
      await rejectsWith(
        cast.ledger.submit(cast.relay, 'appendReceipt', signedReceipt([device, revoking])),
        'KEY_REVOKED',
      );
    });

    it('receipts appended before a revocation keep their status and are flagged afterwards', async () => {
      const key = testKey(120);
      await register(cast, cast.alice, key);
      const mu = signedReceipt([key, witness]);
      await cast.ledger.submit(cast.relay, 'appendReceipt', mu);
      const revoked = json<{ revokedAt: string }>(
        (await cast.ledger.submit(cast.admin, 'revokeKey', key.keyId, 'leaked')).result,
      );
      const stored = json<Entry>(await cast.ledger.evaluate(cast.auditor, 'getReceipt', idOf(mu)));
      assert.deepEqual(stored.revokedSigners, [
        { keyId: key.keyId, reason: 'leaked', revokedAt: revoked.revokedAt },
      ]);
      // Retrying the append of that receipt still answers its record (flagged), never an error.
      const retry = json<Entry>((await cast.ledger.submit(cast.relay, 'appendReceipt', mu)).result);
      assert.equal(retry.status, 'existing');
      assert.equal(retry.revokedSigners.length, 1);
    });

    it('only appenders append', async () => {
      const mu = signedReceipt([device]);
      for (const who of [cast.auditor, cast.admin, cast.operator, cast.multi]) {
        await rejectsWith(
          cast.ledger.submit(who, 'appendReceipt', mu),
          'FORBIDDEN',
          /may not append receipts$/,
        );
        await rejectsWith(cast.ledger.submit(who, 'appendReceipts', JSON.stringify([mu])), 'FORBIDDEN');
      }
      await rejectsWith(cast.ledger.submit(cast.nobody, 'appendReceipts', 'not even json'), 'FORBIDDEN');
    });

    it('getReceipt: NOT_FOUND, BAD_REQUEST for a malformed id, auditors and admins only', async () => {
      await rejectsWith(cast.ledger.evaluate(cast.auditor, 'getReceipt', nextId()), 'NOT_FOUND');
      await rejectsWith(cast.ledger.evaluate(cast.auditor, 'getReceipt', 'receipt!x'), 'BAD_REQUEST');
      const mu = signedReceipt([device]);
      await cast.ledger.submit(cast.relay, 'appendReceipt', mu);
      assert.equal(json<Entry>(await cast.ledger.evaluate(cast.admin, 'getReceipt', idOf(mu))).mu, mu);
      assert.equal(json<Entry>(await cast.ledger.evaluate(cast.multi, 'getReceipt', idOf(mu))).mu, mu);
      for (const who of [cast.alice, cast.operator, cast.nobody]) {
        await rejectsWith(cast.ledger.evaluate(who, 'getReceipt', idOf(mu)), 'FORBIDDEN');
      }
    });
  });
