/**
 * gateway/append/verify.ts: `preVerify` with the check on core's verification workers (the embedded
 * gateway's way since issue 14's fifth pass) answers exactly what it answers on this thread: the same
 * receipt and text handed over to the contract, or the same GatewayError (code, message, details, status),
 * for every golden vector, broken receipts, lone surrogates, unknown keys and a key lookup that fails.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fromBase64, ReceiptHandOff, utf8 } from '../../core/index.js';
import { pooledMlDsa } from '../../core/crypto/verify-pool.js';
import { type KeyLookup, preVerify, type Verified } from '../../gateway/append/verify.js';
import { GatewayError } from '../../gateway/errors.js';
import { flipInLastSignature, storedReceiptVectors } from '../vectors/stored-receipts.js';

const { positives, negatives, signerKeys: registry } = storedReceiptVectors();

const inputs: { name: string; input: Uint8Array | string }[] = [
  ...positives.flatMap((v) => [
    { name: `${v.name} (string)`, input: v.mu },
    { name: `${v.name} (bytes)`, input: utf8(v.mu) },
    { name: `${v.name}, a signature byte changed`, input: flipInLastSignature(v.mu) },
  ]),
  ...negatives.map((n) => ({
    name: `negative ${n.name}`,
    input: fromBase64(n.muBase64, 'E_BUNDLE_SYNTAX', 'vector'),
  })),
  { name: 'a lone surrogate', input: positives[0]!.mu.replace('\n', '\uD800\n') },
];

/** The registry minus the ML-DSA-44 vector's key, and a lookup that fails for the ML-DSA-87 one's. */
const unregistered = positives[1]!.signers[0]!.keyId;
const failing = positives[2]!.signers[0]!.keyId;
const lookup: KeyLookup = async (keyId) => {
  if (keyId === failing) throw new GatewayError('E_UNAVAILABLE', 'the ledger is not answering');
  return keyId === unregistered ? undefined : registry.get(keyId);
};

type Outcome = { verified: Verified; handedOver: boolean } | { error: unknown };

async function outcome(run: (handOff: ReceiptHandOff) => Promise<Verified>): Promise<Outcome> {
  const handOff = new ReceiptHandOff();
  try {
    const verified = await run(handOff);
    return { verified, handedOver: handOff.take(verified.mu) !== undefined };
  } catch (e) {
    return { error: e };
  }
}

function errorParts(e: unknown): unknown {
  if (!(e instanceof GatewayError)) return e;
  return { code: e.code, message: e.message, details: e.details, status: e.status };
}

describe('preVerify: the check on the workers is the check on this thread', () => {
  const mlDsa = pooledMlDsa({ memo: true, workers: 2 });
  after(() => mlDsa.pool?.close());

  it('same receipt and hand-over, or the same error, for every input', async () => {
    let valid = 0;
    let invalid = 0;
    for (const { name, input } of inputs) {
      const here = await outcome((h) => preVerify(lookup, input, mlDsa, h));
      const there = await outcome((h) => preVerify(lookup, input, mlDsa, h, mlDsa.checkReceipt));
      if ('verified' in here) {
        valid++;
        assert.ok('verified' in there, name);
        assert.deepEqual(there.verified, here.verified, name);
        assert.ok(here.handedOver && there.handedOver, `${name}: handed over`);
      } else {
        invalid++;
        assert.ok('error' in there, name);
        assert.deepEqual(errorParts(there.error), errorParts(here.error), name);
      }
    }
    assert.ok(valid >= 4 && invalid >= 30, `${valid} valid, ${invalid} invalid`);
  });

  it('an unregistered signer and a failing key lookup fail as on this thread', async () => {
    const codes: Record<string, string> = {};
    for (const v of [positives[1]!, positives[2]!, positives[3]!]) {
      const o = await outcome((h) => preVerify(lookup, v.mu, mlDsa, h, mlDsa.checkReceipt));
      assert.ok('error' in o && o.error instanceof GatewayError, v.name);
      codes[v.name] = o.error.code;
    }
    assert.deepEqual(codes, {
      'ml-dsa-44': 'E_KEY_UNKNOWN',
      'ml-dsa-87': 'E_UNAVAILABLE',
      'multi-signature': 'E_UNAVAILABLE',
    });
  });
});
