import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  CoreError,
  importPublicKey,
  ML_DSA_ALGORITHMS,
  nobleBackend,
  privateKeyFromPem,
  privateKeyFromSeed,
  privateKeyToPem,
  publicKeyFromPem,
  publicKeyToPem,
  toBase64,
  utf8,
} from '../../core/index.js';
import { nativeBackend, nativeMlDsaAvailable } from '../../core/crypto/native.js';

const seed = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
const ctx = utf8('torgo/receipt/v1');
const msg = utf8('receipt text\n');

describe('ML-DSA backends', () => {
  it('native is available on the pinned Node 24 (the project pins it for this)', () => {
    assert.ok(nativeMlDsaAvailable());
  });

  for (const alg of ML_DSA_ALGORITHMS) {
    it(`${alg}: both backends derive the same public key and verify each other's signatures, with context`, () => {
      const pkNoble = nobleBackend.publicKeyFromSeed(alg, seed);
      const pkNative = nativeBackend.publicKeyFromSeed(alg, seed);
      assert.deepEqual(pkNative, pkNoble);
      const byNative = nativeBackend.sign(alg, seed, msg, ctx);
      const byNoble = nobleBackend.sign(alg, seed, msg, ctx);
      assert.ok(nobleBackend.verify(alg, pkNoble, msg, byNative, ctx));
      assert.ok(nativeBackend.verify(alg, pkNoble, msg, byNoble, ctx));
      for (const b of [nobleBackend, nativeBackend]) {
        assert.equal(
          b.verify(alg, pkNoble, msg, byNative, utf8('torgo/other/v1')),
          false,
          `${b.name}: wrong context`,
        );
        assert.equal(b.verify(alg, pkNoble, msg, byNative, new Uint8Array()), false, `${b.name}: no context`);
        assert.equal(
          b.verify(alg, pkNoble, utf8('other\n'), byNoble, ctx),
          false,
          `${b.name}: other message`,
        );
        assert.equal(b.verify(alg, pkNoble, msg, byNoble.subarray(1), ctx), false, `${b.name}: truncated`);
      }
    });
  }

  it('native: a key array verified before and written to since verifies as its new bytes (the key cache follows the bytes)', () => {
    const alg = 'ML-DSA-65';
    const key = nativeBackend.publicKeyFromSeed(alg, seed);
    const other = nativeBackend.publicKeyFromSeed(
      alg,
      Uint8Array.from({ length: 32 }, (_, i) => i),
    );
    const sig = nativeBackend.sign(alg, seed, msg, ctx);
    const byOther = nativeBackend.sign(
      alg,
      Uint8Array.from({ length: 32 }, (_, i) => i),
      msg,
      ctx,
    );
    const array = Uint8Array.from(key);
    assert.ok(nativeBackend.verify(alg, array, msg, sig, ctx), 'first verify');
    assert.ok(nativeBackend.verify(alg, array, msg, sig, ctx), 'same array again');
    array[100] = array[100]! ^ 1;
    assert.equal(nativeBackend.verify(alg, array, msg, sig, ctx), false, 'one bit flipped in place');
    array.set(other);
    assert.equal(nativeBackend.verify(alg, array, msg, sig, ctx), false, 'another key in place');
    assert.ok(nativeBackend.verify(alg, array, msg, byOther, ctx), "the other key's signature");
    array.set(key);
    assert.ok(nativeBackend.verify(alg, array, msg, sig, ctx), 'restored');
    // A view into a larger buffer and a fresh copy: same verdicts.
    const padded = new Uint8Array(key.length + 8);
    padded.set(key, 4);
    assert.ok(nativeBackend.verify(alg, padded.subarray(4, 4 + key.length), msg, sig, ctx), 'view');
    assert.equal(
      nativeBackend.verify(alg, padded.subarray(3, 3 + key.length), msg, sig, ctx),
      false,
      'shifted view',
    );
  });

  it('deterministic signing is deterministic on both backends (vectors rely on it)', () => {
    const a = nobleBackend.sign('ML-DSA-65', seed, msg, ctx, { deterministic: true });
    const b = nativeBackend.sign('ML-DSA-65', seed, msg, ctx, { deterministic: true });
    assert.deepEqual(a, b);
  });
});

describe('keys on disk', () => {
  const key = privateKeyFromSeed('ML-DSA-65', seed);

  it('PEM round trip; OpenSSL (node:crypto) reads our PKCS#8 seed form and SPKI', () => {
    assert.equal(privateKeyFromPem(privateKeyToPem(key)).keyId, key.keyId);
    assert.equal(publicKeyFromPem(publicKeyToPem(key)).keyId, key.keyId);
    assert.equal(createPrivateKey(privateKeyToPem(key)).asymmetricKeyType, 'ml-dsa-65');
    assert.equal(createPublicKey(publicKeyToPem(key)).asymmetricKeyType, 'ml-dsa-65');
  });

  it("reads OpenSSL's default PKCS#8 export (seed and expanded key) and refuses a mismatched one", () => {
    const exported = createPrivateKey(privateKeyToPem(key)).export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    assert.equal(privateKeyFromPem(exported).keyId, key.keyId);
    const der = createPrivateKey(privateKeyToPem(key)).export({ type: 'pkcs8', format: 'der' });
    der[der.length - 1]! ^= 1;
    const tampered = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`;
    assert.throws(() => privateKeyFromPem(tampered), { code: 'E_KEY_INVALID' });
  });

  it('imports raw base64 public keys, detecting the parameter set by length', () => {
    const k = importPublicKey(toBase64(key.publicKey));
    assert.equal(k.alg, 'ML-DSA-65');
    assert.equal(k.keyId, key.keyId);
    assert.throws(() => importPublicKey(toBase64(key.publicKey.subarray(1))), { code: 'E_KEY_INVALID' });
  });

  it('refuses what is not an ML-DSA key with coded errors', () => {
    const ec = createPublicKey(
      createPrivateKey({
        key: {
          kty: 'OKP',
          crv: 'Ed25519',
          d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
          x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
        },
        format: 'jwk',
      }),
    ).export({ type: 'spki', format: 'pem' }) as string;
    assert.throws(() => publicKeyFromPem(ec), { code: 'E_KEY_ALGORITHM' });
    assert.throws(() => publicKeyFromPem('hello'), { code: 'E_KEY_INVALID' });
    assert.throws(
      () => privateKeyFromPem(publicKeyToPem(key)),
      (e) => e instanceof CoreError && e.code === 'E_KEY_INVALID',
    );
  });

  it('encodes SPKI exactly as OpenSSL does, for every parameter set', () => {
    for (const alg of ML_DSA_ALGORITHMS) {
      const k = privateKeyFromSeed(alg, seed);
      const openssl = createPublicKey(createPrivateKey(privateKeyToPem(k)));
      assert.equal(openssl.export({ type: 'spki', format: 'pem' }), publicKeyToPem(k), alg);
    }
  });

  it('refuses BER that is not DER: a non-minimal length, an indefinite length, trailing bytes', () => {
    const spki = derOf(publicKeyToPem(key));
    // 30 82 LL LL | 30 0b <AlgorithmIdentifier> | 03 82 …: re-encode the AlgorithmIdentifier's length
    // as 81 0b (the long form for a length under 128, which X.690 §10.1 forbids) and grow the outer one.
    assert.deepEqual([...spki.subarray(0, 2), spki[4], spki[5]], [0x30, 0x82, 0x30, 0x0b]);
    const outer = (spki[2]! << 8) | spki[3]!;
    const nonMinimal = Uint8Array.from([
      0x30,
      0x82,
      (outer + 1) >> 8,
      (outer + 1) & 0xff,
      0x30,
      0x81,
      ...spki.subarray(5),
    ]);
    const indefinite = Uint8Array.from([0x30, 0x80, ...spki.subarray(4), 0x00, 0x00]);
    const trailing = Uint8Array.from([...spki, 0x00]);
    for (const [what, der] of Object.entries({ nonMinimal, indefinite, trailing })) {
      assert.throws(
        () => publicKeyFromPem(pemOf('PUBLIC KEY', der)),
        (e) => e instanceof CoreError && e.code === 'E_KEY_INVALID' && /not DER/.test(e.message),
        what,
      );
    }
    assert.equal(
      publicKeyFromPem(pemOf('PUBLIC KEY', spki)).keyId,
      key.keyId,
      'the DER original still reads',
    );
  });

  it('refuses an ML-DSA AlgorithmIdentifier with parameters (RFC 9881 §2: absent)', () => {
    const spki = derOf(publicKeyToPem(key));
    const oid = spki.subarray(6, 6 + 11); // 06 09 <9 bytes>
    const outer = ((spki[2]! << 8) | spki[3]!) + 2;
    const withNull = Uint8Array.from([
      0x30,
      0x82,
      outer >> 8,
      outer & 0xff,
      0x30,
      0x0d,
      ...oid,
      0x05,
      0x00,
      ...spki.subarray(17),
    ]);
    assert.throws(() => publicKeyFromPem(pemOf('PUBLIC KEY', withNull)), { code: 'E_KEY_ALGORITHM' });
  });

  it('key ids are derived from the key: different algorithm or key, different id', () => {
    const k44 = privateKeyFromSeed('ML-DSA-44', seed);
    assert.notEqual(k44.keyId, key.keyId);
    assert.match(key.keyId, /^[0-9a-f]{64}$/);
  });
});

function derOf(pem: string): Uint8Array {
  return Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
}

function pemOf(label: string, der: Uint8Array): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64')}\n-----END ${label}-----\n`;
}
