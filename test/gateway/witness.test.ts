import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  emptyRoot,
  fromBase64,
  generatePrivateKey,
  importPublicKey,
  KEY_HEADS_EXTENSION,
  parseCheckpointBody,
  parseNote,
  signCheckpoint,
  toBase64,
  verifyCheckpoint,
} from '../../core/index.js';
import { call, createToken, receipt, service, startTestGateway } from './helpers.js';

const ORIGIN = 'torgo-ledger.local/log';

describe('POST /v1/checkpoint/cosign: witnessing another organisation’s checkpoint', () => {
  it('cosigns a checkpoint whose root it computed itself; refuses forks, other logs and non-operators', async (t) => {
    const { url, admin } = await startTestGateway(t);
    const { token, key } = await service(url, admin);
    for (let i = 0; i < 3; i++)
      assert.equal((await call(url, 'POST', '/v1/receipts', { token, raw: receipt([key]) })).status, 201);
    const ours = await call(url, 'POST', '/v1/checkpoint', { token: admin });
    assert.equal(ours.status, 200, ours.text);
    const size = ours.json.size as number;
    const root = fromBase64(ours.json.rootHash, 'E_PROOF_INVALID', 'root');

    // Another organisation's operator signs the same tree head with a key this gateway never saw.
    const other = generatePrivateKey('ML-DSA-65');
    const theirs = signCheckpoint({ origin: ORIGIN, size, rootHash: root }, [{ name: ORIGIN, key: other }]);
    const cosigned = await call(url, 'POST', '/v1/checkpoint/cosign', {
      token: admin,
      body: { note: theirs },
    });
    assert.equal(cosigned.status, 200, cosigned.text);
    assert.equal(cosigned.json.size, size);
    assert.ok(cosigned.json.note.startsWith(theirs.slice(0, theirs.lastIndexOf('\n— '))), 'their lines kept');
    const operator = importPublicKey((await call(url, 'GET', '/v1/log/operator-key')).text);
    const both = verifyCheckpoint(cosigned.json.note, {
      origin: ORIGIN,
      trusted: [
        { name: ORIGIN, key: other },
        { name: ORIGIN, key: operator },
      ],
      threshold: 2,
    });
    assert.equal(both.signedBy.length, 2, 'signed by both organisations');

    // The same root claimed at another size: the two logs disagree.
    const older = signCheckpoint({ origin: ORIGIN, size: 1, rootHash: root }, [{ name: ORIGIN, key: other }]);
    const forked = await call(url, 'POST', '/v1/checkpoint/cosign', { token: admin, body: { note: older } });
    assert.equal(forked.status, 409, 'size 1 with the size-N root is a fork');
    assert.equal(forked.json.code, 'E_CHECKPOINT_CONFLICT');

    const foreign = signCheckpoint({ origin: 'elsewhere.example/log', size, rootHash: root }, [
      { name: 'elsewhere.example/log', key: other },
    ]);
    const f = await call(url, 'POST', '/v1/checkpoint/cosign', { token: admin, body: { note: foreign } });
    assert.equal(f.status, 422, f.text);
    assert.equal(f.json.code, 'E_CHECKPOINT_INVALID');

    const garbage = await call(url, 'POST', '/v1/checkpoint/cosign', {
      token: admin,
      body: { note: 'not a note' },
    });
    assert.equal(garbage.json.code, 'E_CHECKPOINT_INVALID');

    const auditor = await createToken(url, admin, 'aud', ['auditor']);
    const forbidden = await call(url, 'POST', '/v1/checkpoint/cosign', {
      token: auditor,
      body: { note: theirs },
    });
    assert.equal(forbidden.status, 403);
  });

  it('cosigns the key-heads commitment only when it computed the same one (a hidden revocation is a fork)', async (t) => {
    const { url, admin } = await startTestGateway(t);
    const { token, key } = await service(url, admin);
    assert.equal((await call(url, 'POST', '/v1/receipts', { token, raw: receipt([key]) })).status, 201);
    const ours = await call(url, 'POST', '/v1/checkpoint', { token: admin });
    assert.equal(ours.status, 200, ours.text);
    const body = parseCheckpointBody(parseNote(ours.json.note).text);
    const line = body.extensions?.find((l) => l.startsWith(`${KEY_HEADS_EXTENSION} `));
    assert.match(line ?? '', /^torgo\/key-heads\/v1 1 [A-Za-z0-9+/]{43}=$/, 'one key, committed');
    const other = generatePrivateKey('ML-DSA-65');
    const same = signCheckpoint(body, [{ name: ORIGIN, key: other }]);
    const cosigned = await call(url, 'POST', '/v1/checkpoint/cosign', { token: admin, body: { note: same } });
    assert.equal(cosigned.status, 200, cosigned.text);
    // Same tree, but key heads that leave the key out: refused, never signed.
    const hidden = signCheckpoint(
      { ...body, extensions: [`${KEY_HEADS_EXTENSION} 0 ${toBase64(emptyRoot())}`] },
      [{ name: ORIGIN, key: other }],
    );
    const refused = await call(url, 'POST', '/v1/checkpoint/cosign', {
      token: admin,
      body: { note: hidden },
    });
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.json.code, 'E_CHECKPOINT_CONFLICT');
  });
});
