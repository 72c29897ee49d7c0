/**
 * core/crypto/spki.ts writes the DER of our own keys without the ASN.1 schema library: held here to
 * der.ts's encodings through the library (the definition), byte for byte, for every parameter set,
 * and to the same errors; and read back by der.ts's strict DER parser and by OpenSSL.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import * as der from '../../core/crypto/der.js';
import { ML_DSA, ML_DSA_ALGORITHMS, SEED_LENGTH } from '../../core/crypto/mldsa.js';
import { nativeMlDsaAvailable } from '../../core/crypto/native.js';
import * as spki from '../../core/crypto/spki.js';

const bytes = (n: number) => new Uint8Array(randomBytes(n));
const edges = (n: number) => [new Uint8Array(n), new Uint8Array(n).fill(0xff), bytes(n), bytes(n)];

/** The error a call throws, as code and message (or undefined). */
function thrown(f: () => unknown): { code: unknown; message: string } | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return { code: (e as { code?: unknown }).code, message: (e as Error).message };
  }
}

describe('DER of our own keys without the schema library: the library encoding, byte for byte', () => {
  for (const alg of ML_DSA_ALGORITHMS) {
    it(`${alg}: SubjectPublicKeyInfo of zero, all-ones and random keys equals der.ts's, and parses back`, () => {
      for (const key of edges(ML_DSA[alg].publicKeyLength)) {
        const encoded = spki.encodeSpki(alg, key);
        assert.deepEqual(encoded, der.encodeSpki(alg, key));
        assert.deepEqual(der.decodeSpki(encoded), { alg, publicKey: key });
      }
    });

    it(`${alg}: PKCS#8 of zero, all-ones and random seeds equals der.ts's, and parses back`, () => {
      for (const seed of edges(SEED_LENGTH)) {
        const encoded = spki.encodePkcs8Seed(alg, seed);
        assert.deepEqual(encoded, der.encodePkcs8Seed(alg, seed));
        assert.deepEqual(der.decodePkcs8(encoded), { alg, seed });
      }
    });

    it(`${alg}: keys and seeds of any other length fail as der.ts's do`, () => {
      const n = ML_DSA[alg].publicKeyLength;
      for (const length of [0, 1, 32, n - 1, n + 1, 1312, 1952, 2592].filter((l) => l !== n)) {
        const key = bytes(length);
        const error = thrown(() => spki.encodeSpki(alg, key));
        assert.ok(error, `length ${length} refused`);
        assert.deepEqual(
          error,
          thrown(() => der.encodeSpki(alg, key)),
        );
      }
      for (const length of [0, 31, 33, 64]) {
        const seed = bytes(length);
        const error = thrown(() => spki.encodePkcs8Seed(alg, seed));
        assert.ok(error, `seed length ${length} refused`);
        assert.deepEqual(
          error,
          thrown(() => der.encodePkcs8Seed(alg, seed)),
        );
      }
    });
  }

  it('OpenSSL reads both (where the runtime has ML-DSA)', { skip: !nativeMlDsaAvailable() }, () => {
    for (const alg of ML_DSA_ALGORITHMS) {
      const privateKey = createPrivateKey({
        key: Buffer.from(spki.encodePkcs8Seed(alg, bytes(SEED_LENGTH))),
        format: 'der',
        type: 'pkcs8',
      });
      const publicDer = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
      const raw = new Uint8Array(publicDer.subarray(publicDer.length - ML_DSA[alg].publicKeyLength));
      assert.deepEqual(spki.encodeSpki(alg, raw), new Uint8Array(publicDer));
    }
  });
});
