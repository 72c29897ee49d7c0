import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CoreError,
  fromBase64,
  importPublicKey,
  nobleBackend,
  type PublicKey,
  parseReceipt,
  publicKeyFromPem,
  verifyReceipt,
} from '../../../core/index.js';
import { nativeBackend, nativeMlDsaAvailable } from '../../../core/crypto/native.js';
import {
  buildNegativeVectors,
  buildPositiveVectors,
  type NegativeVector,
  type PositiveVector,
} from '../../vectors/receipt-vectors.js';

const dir = join(import.meta.dirname, '..', '..', '..', '..', 'test', 'vectors', 'receipts');
const load = <T>(name: string): T => JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;
const names = ['minimal', 'ml-dsa-44', 'ml-dsa-87', 'multi-signature', 'rich-body'];
const positives = names.map((n) => load<PositiveVector>(`${n}.json`));
const negatives = load<NegativeVector[]>('negative.json');

function resolverFor(vector: PositiveVector): (keyId: string) => PublicKey | undefined {
  const keys = new Map(vector.signers.map((s) => [s.keyId, publicKeyFromPem(s.publicKeyPem)]));
  return (id) => keys.get(id);
}

const backends = [nobleBackend, ...(nativeMlDsaAvailable() ? [nativeBackend] : [])];

describe('receipt golden vectors', () => {
  it('loads every vector (a loader that loads nothing fails)', () => {
    assert.equal(positives.length, 5);
    assert.ok(negatives.length >= 25);
  });

  it('the stored vectors are exactly what the code produces', () => {
    const built = buildPositiveVectors();
    assert.deepEqual(built, positives);
    assert.deepEqual(buildNegativeVectors(built[0]!, built[3]!), negatives);
  });

  it('the spec worked example (§8) is the minimal vector', () => {
    const spec = readFileSync(join(dir, '..', '..', '..', 'docs', 'receipt-format.md'), 'utf8');
    const minimal = positives[0]!;
    assert.ok(spec.includes(minimal.receiptText), 'docs/receipt-format.md §8 shows the minimal receipt text');
  });

  for (const backend of backends) {
    describe(`verified with the ${backend.name} backend`, () => {
      for (const v of positives) {
        it(`${v.name} verifies`, () => {
          const { receipt, signers } = verifyReceipt(v.mu, resolverFor(v), backend);
          assert.equal(receipt.digest, v.digest);
          assert.equal(receipt.sourceText, v.document);
          assert.deepEqual(signers.map((s) => s.keyId).sort(), v.signers.map((s) => s.keyId).sort());
        });
      }
    });
  }

  describe('negative vectors: each a specific error, never a crash', () => {
    const minimal = positives[0]!;
    for (const n of negatives) {
      it(`${n.name}: ${n.code}`, () => {
        const bytes = fromBase64(n.muBase64, 'E_BUNDLE_SYNTAX', 'vector');
        assert.throws(
          () => verifyReceipt(bytes, resolverFor(minimal)),
          (e: unknown) => e instanceof CoreError && e.code === n.code,
        );
      });
    }
  });

  it('wrong key: a valid signature checked against another key id is unknown, against a wrong key is invalid', () => {
    const minimal = positives[0]!;
    const other = importPublicKey(positives[1]!.signers[0]!.publicKeyPem);
    assert.throws(() => verifyReceipt(minimal.mu, () => undefined), { code: 'E_KEY_UNKNOWN' });
    // A resolver that lies about which key has this id is caught.
    assert.throws(() => verifyReceipt(minimal.mu, () => other), { code: 'E_KEY_UNKNOWN' });
  });

  it('wrong algorithm: an ML-DSA-44 signature under an ML-DSA-65 key id is refused', () => {
    const mu44 = positives[1]!;
    const key65 = publicKeyFromPem(positives[0]!.signers[0]!.publicKeyPem);
    const forged = mu44.mu.replace(mu44.signers[0]!.keyId, key65.keyId);
    assert.throws(() => verifyReceipt(forged, (id) => (id === key65.keyId ? key65 : undefined)), {
      code: 'E_KEY_ALGORITHM',
    });
  });

  it('parsing a vector twice gives the same receipt (no hidden state)', () => {
    const a = parseReceipt(positives[4]!.mu);
    const b = parseReceipt(positives[4]!.mu);
    assert.deepEqual(a.document, b.document);
  });
});
