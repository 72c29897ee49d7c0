/** Key registry: register, duplicate, rotate, revoke (owner, admin, not others), history, events. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { toBase64 } from '../../core/index.js';
import {
  type Cast,
  eventJson,
  json,
  LEDGERS,
  openCast,
  partyOf,
  pem,
  register,
  rejectsWith,
  testKey,
} from './ledger.js';

type KeyRecord = {
  keyId: string;
  alg: string;
  publicKey: string;
  label: string;
  owner: { mspId: string; id: string };
  status: string;
  registeredAt: string;
  registeredTxId: string;
  predecessor?: string;
  successor?: string;
  retiredAt?: string;
  revokedAt?: string;
  revocationReason?: string;
  revokedBy?: { mspId: string; id: string };
};

for (const kind of LEDGERS)
  describe(`key registry (${kind})`, () => {
    let cast: Cast;
    before(async () => {
      cast = await openCast(kind);
    });
    after(() => cast.ledger.close());

    it('registers a PEM key bound to the caller, with a derived key id and an event', async () => {
      const key = testKey(1);
      const out = await cast.ledger.submit(cast.alice, 'registerKey', pem(key), 'icu relay 3');
      const record = json<KeyRecord>(out.result);
      assert.equal(record.keyId, key.keyId);
      assert.equal(record.alg, 'ML-DSA-65');
      assert.equal(record.publicKey, pem(key));
      assert.equal(record.label, 'icu relay 3');
      assert.equal(record.status, 'active');
      assert.deepEqual(record.owner, partyOf(cast.alice));
      assert.equal(record.owner.mspId, 'Org1MSP');
      assert.match(record.owner.id, /^x509::.*CN=alice.*::/);
      assert.match(record.registeredAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/);
      assert.equal(record.registeredTxId.length, 64);
      // Sorted-key JSON, byte for byte.
      assert.equal(
        out.result,
        JSON.stringify(Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)))),
      );
      const ev = eventJson(out);
      assert.equal(ev.name, 'KeyRegistered');
      assert.deepEqual(ev.payload, {
        keyId: key.keyId,
        owner: record.owner,
        txId: record.registeredTxId,
        logFormat: 2,
        entries: [
          {
            alg: 'ML-DSA-65',
            committedAt: record.registeredAt,
            event: 'registered',
            keyId: key.keyId,
            kind: 'key',
            owner: record.owner,
            publicKey: Buffer.from(key.publicKey).toString('base64'),
            retiredAt: null,
            revocationReason: null,
            revokedAt: null,
            txId: record.registeredTxId,
            validFrom: record.registeredAt,
          },
        ],
      });
      assert.deepEqual(out.writes, [`key!${key.keyId}`]);
      assert.equal(await cast.ledger.evaluate(cast.auditor, 'getKey', key.keyId), out.result);
    });

    it('registers a raw base64 key of any ML-DSA parameter set; an empty label is no label', async () => {
      const key = testKey(2, 'ML-DSA-44');
      const record = json<KeyRecord>(
        (await cast.ledger.submit(cast.bob, 'registerKey', toBase64(key.publicKey), '')).result,
      );
      assert.equal(record.keyId, key.keyId);
      assert.equal(record.alg, 'ML-DSA-44');
      assert.equal(record.publicKey, pem(key));
      assert.equal(record.label, '');
    });

    it('refuses a key registered before, by anyone (KEY_EXISTS)', async () => {
      const key = testKey(3);
      await register(cast, cast.alice, key);
      await rejectsWith(cast.ledger.submit(cast.alice, 'registerKey', pem(key), ''), 'KEY_EXISTS');
      await rejectsWith(
        cast.ledger.submit(cast.bob, 'registerKey', toBase64(key.publicKey), ''),
        'KEY_EXISTS',
      );
    });

    it('refuses what is not an ML-DSA public key (KEY_INVALID with the core code)', async () => {
      await rejectsWith(
        cast.ledger.submit(cast.alice, 'registerKey', 'not a key', ''),
        'KEY_INVALID',
        /E_KEY_INVALID/,
      );
      await rejectsWith(
        cast.ledger.submit(cast.alice, 'registerKey', toBase64(new Uint8Array(100)), ''),
        'KEY_INVALID',
        /1312\/1952\/2592/,
      );
      const ed25519 =
        '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n';
      await rejectsWith(
        cast.ledger.submit(cast.alice, 'registerKey', ed25519, ''),
        'KEY_INVALID',
        /E_KEY_ALGORITHM/,
      );
    });

    it('refuses labels that are too long or unprintable (BAD_REQUEST)', async () => {
      await rejectsWith(
        cast.ledger.submit(cast.alice, 'registerKey', pem(testKey(4)), 'x'.repeat(129)),
        'BAD_REQUEST',
      );
      await rejectsWith(
        cast.ledger.submit(cast.alice, 'registerKey', pem(testKey(4)), 'a\u202eb'),
        'BAD_REQUEST',
      );
      await rejectsWith(
        cast.ledger.submit(cast.alice, 'registerKey', pem(testKey(4)), ' padded'),
        'BAD_REQUEST',
      );
    });

    it('getKey: NOT_FOUND for an unknown key, BAD_REQUEST for a malformed key id', async () => {
      await rejectsWith(cast.ledger.evaluate(cast.auditor, 'getKey', 'ab'.repeat(32)), 'NOT_FOUND');
      await rejectsWith(cast.ledger.evaluate(cast.auditor, 'getKey', 'AB'.repeat(32)), 'BAD_REQUEST');
    });

    it('rotates: the old key retires at the tx time, the new one is active, linked both ways', async () => {
      const oldKey = testKey(10);
      const newKey = testKey(11);
      await register(cast, cast.alice, oldKey, 'pump hub');
      const out = await cast.ledger.submit(cast.alice, 'rotateKey', oldKey.keyId, pem(newKey));
      const { retired, registered } = json<{ retired: KeyRecord; registered: KeyRecord }>(out.result);
      assert.equal(retired.status, 'retired');
      assert.equal(retired.successor, newKey.keyId);
      assert.equal(registered.status, 'active');
      assert.equal(registered.predecessor, oldKey.keyId);
      assert.equal(registered.label, 'pump hub');
      assert.equal(retired.retiredAt, registered.registeredAt);
      assert.deepEqual(registered.owner, retired.owner);
      const ev = eventJson(out);
      assert.equal(ev.name, 'KeyRotated');
      assert.equal(ev.payload['oldKeyId'], oldKey.keyId);
      assert.equal(ev.payload['newKeyId'], newKey.keyId);
      assert.equal(
        json<KeyRecord>(await cast.ledger.evaluate(cast.auditor, 'getKey', oldKey.keyId)).status,
        'retired',
      );
      // A retired key cannot be rotated again.
      await rejectsWith(
        cast.ledger.submit(cast.alice, 'rotateKey', oldKey.keyId, pem(testKey(12))),
        'KEY_NOT_ACTIVE',
      );
    });

    it('rotation: only by the owner, to a key not registered yet, from a known key', async () => {
      const key = testKey(20);
      await register(cast, cast.alice, key);
      await rejectsWith(
        cast.ledger.submit(cast.bob, 'rotateKey', key.keyId, pem(testKey(21))),
        'FORBIDDEN',
        /^FORBIDDEN: role appender may not rotate key/,
      );
      // Same MSP, another certificate: not the owner either.
      await rejectsWith(
        cast.ledger.submit(cast.relay, 'rotateKey', key.keyId, pem(testKey(21))),
        'FORBIDDEN',
      );
      await rejectsWith(
        cast.ledger.submit(cast.admin, 'rotateKey', key.keyId, pem(testKey(21))),
        'FORBIDDEN',
      );
      await rejectsWith(cast.ledger.submit(cast.alice, 'rotateKey', key.keyId, pem(key)), 'KEY_EXISTS');
      await rejectsWith(
        cast.ledger.submit(cast.alice, 'rotateKey', 'cd'.repeat(32), pem(testKey(21))),
        'NOT_FOUND',
      );
      await rejectsWith(cast.ledger.submit(cast.alice, 'rotateKey', key.keyId, 'garbage'), 'KEY_INVALID');
    });

    it('revokes by the owner: revokedAt = tx time, reason kept, event; twice is KEY_REVOKED', async () => {
      const key = testKey(30);
      await register(cast, cast.alice, key);
      const out = await cast.ledger.submit(cast.alice, 'revokeKey', key.keyId, 'device stolen');
      const record = json<KeyRecord>(out.result);
      assert.equal(record.status, 'revoked');
      assert.equal(record.revocationReason, 'device stolen');
      assert.match(record.revokedAt!, /Z$/);
      assert.deepEqual(record.revokedBy, record.owner);
      const ev = eventJson(out);
      assert.equal(ev.name, 'KeyRevoked');
      assert.deepEqual(ev.payload, {
        keyId: key.keyId,
        reason: 'device stolen',
        revokedAt: record.revokedAt,
        revokedBy: record.owner,
        txId: ev.payload['txId'],
        logFormat: 2,
        entries: [
          {
            alg: key.alg,
            committedAt: record.revokedAt,
            event: 'revoked',
            keyId: key.keyId,
            kind: 'key',
            owner: record.owner,
            publicKey: Buffer.from(key.publicKey).toString('base64'),
            retiredAt: null,
            revocationReason: 'device stolen',
            revokedAt: record.revokedAt,
            txId: ev.payload['txId'],
            validFrom: record.registeredAt,
          },
        ],
      });
      await rejectsWith(cast.ledger.submit(cast.alice, 'revokeKey', key.keyId, 'again'), 'KEY_REVOKED');
      await rejectsWith(
        cast.ledger.submit(cast.alice, 'rotateKey', key.keyId, pem(testKey(31))),
        'KEY_REVOKED',
      );
    });

    it('revokes by an admin any key, retired ones too; others may not; a reason is required', async () => {
      const key = testKey(40);
      const successor = testKey(41);
      await register(cast, cast.bob, key);
      await rejectsWith(
        cast.ledger.submit(cast.alice, 'revokeKey', key.keyId, 'not mine'),
        'FORBIDDEN',
        /^FORBIDDEN: role appender may not revoke key/,
      );
      await rejectsWith(
        cast.ledger.submit(cast.auditor, 'revokeKey', key.keyId, 'x'),
        'FORBIDDEN',
        /^FORBIDDEN: role auditor/,
      );
      await rejectsWith(cast.ledger.submit(cast.admin, 'revokeKey', key.keyId, ''), 'BAD_REQUEST');
      await cast.ledger.submit(cast.bob, 'rotateKey', key.keyId, pem(successor));
      const record = json<KeyRecord>(
        (await cast.ledger.submit(cast.admin, 'revokeKey', key.keyId, 'compromised HSM')).result,
      );
      assert.equal(record.status, 'revoked');
      assert.ok(record.retiredAt, 'a retired key keeps its retiredAt when revoked');
      assert.deepEqual(record.revokedBy, partyOf(cast.admin));
      await rejectsWith(cast.ledger.submit(cast.admin, 'revokeKey', 'ef'.repeat(32), 'x'), 'NOT_FOUND');
    });

    it('history: every version of the key, newest first, with tx ids and times', async () => {
      const key = testKey(50);
      await register(cast, cast.alice, key, 'v1');
      await cast.ledger.submit(cast.alice, 'rotateKey', key.keyId, pem(testKey(51)));
      await cast.ledger.submit(cast.alice, 'revokeKey', key.keyId, 'decommissioned');
      const { keyId, history } = json<{
        keyId: string;
        history: { txId: string; timestamp: string; isDelete: boolean; value: KeyRecord }[];
      }>(await cast.ledger.evaluate(cast.auditor, 'getKeyHistory', key.keyId));
      assert.equal(keyId, key.keyId);
      assert.deepEqual(
        history.map((h) => h.value.status),
        ['revoked', 'retired', 'active'],
      );
      assert.ok(history.every((h) => !h.isDelete && h.txId.length === 64));
      assert.equal(history[2]!.timestamp, history[2]!.value.registeredAt);
      assert.equal(history[0]!.timestamp, history[0]!.value.revokedAt);
      await rejectsWith(cast.ledger.evaluate(cast.auditor, 'getKeyHistory', '01'.repeat(32)), 'NOT_FOUND');
    });

    it('every role may read the registry; an identity without a role may not', async () => {
      const key = testKey(60);
      await register(cast, cast.alice, key);
      for (const who of [cast.alice, cast.auditor, cast.admin, cast.operator]) {
        assert.equal(json<KeyRecord>(await cast.ledger.evaluate(who, 'getKey', key.keyId)).keyId, key.keyId);
      }
      await rejectsWith(
        cast.ledger.evaluate(cast.nobody, 'getKey', key.keyId),
        'FORBIDDEN',
        /an identity without a torgo\.role attribute may not read the key registry/,
      );
      await rejectsWith(cast.ledger.submit(cast.auditor, 'registerKey', pem(testKey(61)), ''), 'FORBIDDEN');
      await rejectsWith(cast.ledger.submit(cast.admin, 'registerKey', pem(testKey(61)), ''), 'FORBIDDEN');
    });
  });
