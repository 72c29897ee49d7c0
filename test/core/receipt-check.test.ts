/**
 * core/crypto/receipt-check.ts: a receipt's pre-check on a verification worker gives what parsing and
 * verifying on the caller's thread gives — the same receipt, or the same CoreError (code, message,
 * details) — on every golden vector (positive and negative, string and bytes) and on receipts broken
 * on purpose; it is undecided exactly when a signature's key was not looked up; the memo keys it answers
 * are the ones the contract's check looks up.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  CoreError,
  fromBase64,
  type MlDsaBackend,
  parseReceipt,
  type PublicKey,
  RECEIPT_CONTEXT,
  type Receipt,
  utf8,
  verifyReceiptSignatures,
  verifyReceiptSignaturesAsync,
} from '../../core/index.js';
import { nativeBackend } from '../../core/crypto/native.js';
import {
  coreErrorOf,
  type ReceiptCheck,
  type ReceiptJob,
  runReceiptCheck,
  signerKeyIdHints,
  unwireCheck,
  wireCheck,
} from '../../core/crypto/receipt-check.js';
import {
  receiptChecker,
  VerificationMemo,
  VerifyPool,
  type VerifyJob,
  withVerificationMemo,
} from '../../core/crypto/verify-pool.js';
import { flipInLastSignature, storedReceiptVectors } from '../vectors/stored-receipts.js';

const { positives, negatives, signerKeys: allKeys } = storedReceiptVectors();

/** Bytes at an odd offset of a larger buffer, as a request body's slice would be. */
function atOffset(bytes: Uint8Array): Uint8Array {
  const big = new Uint8Array(bytes.length + 7);
  big.set(bytes, 3);
  return big.subarray(3, 3 + bytes.length);
}

interface Case {
  readonly name: string;
  readonly input: Uint8Array | string;
  readonly keys: ReadonlyMap<string, PublicKey | null>;
}

/** Every key the vectors know, one looked up as unregistered (null), and the receipts' own key ids only. */
function cases(): Case[] {
  const out: Case[] = [];
  const knownAll = new Map<string, PublicKey | null>(allKeys);
  for (const v of positives) {
    const own = new Map<string, PublicKey | null>(v.signers.map((s) => [s.keyId, allKeys.get(s.keyId)!]));
    out.push({ name: `${v.name} (string)`, input: v.mu, keys: own });
    out.push({ name: `${v.name} (bytes at an offset)`, input: atOffset(utf8(v.mu)), keys: knownAll });
    out.push({ name: `${v.name}, a signature byte changed`, input: flipInLastSignature(v.mu), keys: own });
    out.push({ name: `${v.name}, unsigned`, input: parseReceipt(v.mu).text, keys: own });
    const unregistered = new Map(own);
    unregistered.set(v.signers.at(-1)!.keyId, null);
    out.push({ name: `${v.name}, its last signer unregistered`, input: v.mu, keys: unregistered });
    // A key that claims another's id: verifyReceiptSignatures rejects it (E_KEY_UNKNOWN).
    const lying = new Map(own);
    const other = [...allKeys.values()].find((k) => k.keyId !== v.signers[0]!.keyId)!;
    lying.set(v.signers[0]!.keyId, other);
    out.push({ name: `${v.name}, a key under another's id`, input: v.mu, keys: lying });
  }
  for (const n of negatives) {
    const bytes = fromBase64(n.muBase64, 'E_BUNDLE_SYNTAX', 'vector');
    out.push({ name: `negative ${n.name} (bytes)`, input: bytes, keys: lookedUp(bytes) });
    const text = Buffer.from(bytes).toString('utf8');
    if (Buffer.compare(utf8(text), bytes) === 0) {
      out.push({ name: `negative ${n.name} (string)`, input: text, keys: lookedUp(text) });
    }
  }
  const surrogate = positives[0]!.mu.replace('\n', '\uD800\n');
  out.push({ name: 'a lone surrogate', input: surrogate, keys: lookedUp(surrogate) });
  return out;
}

/** What the gateway passes: each hinted key id with its key, or null when none is known. */
function lookedUp(input: Uint8Array | string): Map<string, PublicKey | null> {
  return new Map(signerKeyIdHints(input).map((id) => [id, allKeys.get(id) ?? null]));
}

/** What the caller's thread concludes: parse, then verify with the looked-up keys. */
function plain(c: Case, mlDsa: MlDsaBackend): { receipt: Receipt } | { error: CoreError } {
  try {
    const receipt = parseReceipt(c.input);
    verifyReceiptSignatures(receipt, (id) => c.keys.get(id) ?? undefined, mlDsa);
    return { receipt };
  } catch (e) {
    if (!(e instanceof CoreError)) throw e;
    return { error: e };
  }
}

function assertSame(check: ReceiptCheck, c: Case, mlDsa: MlDsaBackend): void {
  const expected = plain(c, mlDsa);
  assert.notEqual(check.verdict, 'undecided', `${c.name}: every key id it names was looked up`);
  if ('receipt' in expected) {
    assert.equal(check.verdict, 'valid', c.name);
    if (check.verdict !== 'valid') return;
    assert.deepEqual(check.receipt, expected.receipt, c.name);
    assert.equal(check.mu, typeof c.input === 'string' ? c.input : Buffer.from(c.input).toString('utf8'));
    return;
  }
  assert.equal(check.verdict, 'invalid', `${c.name}: ${expected.error.code}`);
  if (check.verdict !== 'invalid') return;
  const rebuilt = coreErrorOf(check.error);
  assert.ok(rebuilt instanceof CoreError);
  assert.deepEqual(
    { code: rebuilt.code, message: rebuilt.message, details: rebuilt.details },
    { code: expected.error.code, message: expected.error.message, details: expected.error.details },
    c.name,
  );
}

const job = (c: Case, memoKeys = false): ReceiptJob => ({ input: c.input, keys: c.keys, memoKeys });

describe('receipt pre-check off the caller thread', () => {
  const pool = new VerifyPool(
    2,
    'native',
    nativeBackend,
    new URL('../../core/crypto/verify-worker.js', import.meta.url),
  );
  after(() => pool.close());
  const all = cases();

  it('loads every case (a loader that loads nothing fails)', () => {
    assert.ok(negatives.length >= 25 && all.length >= 60);
    assert.ok(all.some((c) => 'receipt' in plain(c, nativeBackend)));
  });

  it('on this thread: the same receipt or the same CoreError as parsing and verifying', () => {
    for (const c of all) assertSame(runReceiptCheck(job(c), nativeBackend), c, nativeBackend);
  });

  it('on worker threads: the same, every job of one turn answered in order', async () => {
    const checks = await Promise.all(all.map((c) => pool.checkReceipt(job(c))));
    for (const [i, c] of all.entries()) assertSame(checks[i]!, c, nativeBackend);
  });

  it("a worker posts a string input's valid check without the text, and the pool puts the input back", () => {
    for (const c of all) {
      const check = runReceiptCheck(job(c), nativeBackend);
      const wire = wireCheck(check, job(c));
      if (check.verdict === 'valid' && typeof c.input === 'string') {
        assert.equal((wire as { mu: unknown }).mu, null, c.name);
      } else assert.equal(wire, check, c.name);
      assert.deepEqual(unwireCheck(wire, job(c)), check, c.name);
    }
    // A text-less answer to a bytes job is not something a worker posts: undecided, checked by the caller.
    const bytes = all.find(
      (c) => typeof c.input !== 'string' && runReceiptCheck(job(c), nativeBackend).verdict === 'valid',
    )!;
    const valid = runReceiptCheck(job(bytes), nativeBackend);
    assert.deepEqual(unwireCheck({ ...valid, mu: null } as never, job(bytes)), { verdict: 'undecided' });
  });

  it('undecided exactly when a signature names a key id that was not looked up', async () => {
    for (const v of positives) {
      const signers = v.signers.map((s) => s.keyId);
      const missingLast = new Map<string, PublicKey | null>(
        signers.slice(0, -1).map((id) => [id, allKeys.get(id)!]),
      );
      const c = { name: v.name, input: v.mu, keys: missingLast };
      assert.deepEqual(await pool.checkReceipt(job(c)), { verdict: 'undecided' }, v.name);
      assert.deepEqual(runReceiptCheck(job(c), nativeBackend), { verdict: 'undecided' });
    }
    // A parse failure is decided whatever the keys: the caller would fail the same way first.
    const broken = { name: 'broken', input: positives[0]!.mu.replace('---', '--'), keys: new Map() };
    assert.equal((await pool.checkReceipt(job(broken))).verdict, 'invalid');
  });

  it("answers the memo keys the contract's check looks up, and a memo filled with them answers it", async () => {
    const memo = new VerificationMemo();
    const check = receiptChecker(pool, nativeBackend, memo);
    let verifications = 0;
    const counting: MlDsaBackend = {
      ...nativeBackend,
      verify: (...args) => {
        verifications++;
        return nativeBackend.verify(...args);
      },
    };
    const contractSide = withVerificationMemo(counting, memo);
    for (const v of positives) {
      const c = cases().find((k) => k.name === `${v.name} (string)`)!;
      const result = await check(c.input, c.keys);
      assert.equal(result.verdict, 'valid');
      if (result.verdict !== 'valid') continue;
      assert.equal(result.memoKeys.length, v.signers.length);
      // The contract verifies the handed-over parse with the keys from its registry.
      await verifyReceiptSignaturesAsync(result.receipt, (id) => allKeys.get(id), contractSide);
    }
    assert.equal(verifications, 0, 'every signature was a memo hit');
    // Each handed-over parse is found by its signature arrays alone (no SHA-256 of the tuple); a parse of
    // the same text made apart (other arrays) is found by the memo keys.
    const byArrays = new VerificationMemo();
    const checkByArrays = receiptChecker(pool, nativeBackend, byArrays);
    for (const v of positives) {
      const c = cases().find((k) => k.name === `${v.name} (string)`)!;
      const result = await checkByArrays(c.input, c.keys);
      assert.equal(result.verdict, 'valid');
      if (result.verdict !== 'valid') continue;
      for (const s of result.receipt.signatures) {
        const signer: PublicKey = allKeys.get(s.keyId)!;
        const tuple: VerifyJob = {
          alg: signer.alg,
          publicKey: signer.publicKey,
          message: utf8(result.receipt.text),
          signature: s.signature,
          context: RECEIPT_CONTEXT,
        };
        assert.equal(byArrays.hasAccepted(tuple), true, v.name);
        assert.equal(byArrays.hasAccepted({ ...tuple, signature: s.signature.slice() }), false, v.name);
        assert.equal(byArrays.has(VerificationMemo.key(tuple)), true, v.name);
      }
      await verifyReceiptSignaturesAsync(
        parseReceipt(c.input as string),
        (id) => allKeys.get(id),
        withVerificationMemo(counting, byArrays),
      );
    }
    assert.equal(verifications, 0, 'a parse made apart was a memo hit too, by key');
    // Failures are never remembered.
    const bad = cases().find((k) => k.name === 'minimal, a signature byte changed')!;
    const before = memo.size;
    assert.equal((await check(bad.input, bad.keys)).verdict, 'invalid');
    assert.equal(memo.size, before);
    const receipt = parseReceipt(bad.input);
    const s = receipt.signatures[0]!;
    const key = allKeys.get(s.keyId)!;
    assert.equal(
      memo.has(
        VerificationMemo.key({
          alg: key.alg,
          publicKey: key.publicKey,
          message: utf8(receipt.text),
          signature: s.signature,
          context: RECEIPT_CONTEXT,
        }),
      ),
      false,
    );
  });

  it("key id hints are the signature lines' key ids, from strings and bytes; garbage gives none", () => {
    for (const v of positives) {
      const ids = parseReceipt(v.mu).signatures.map((s) => s.keyId);
      assert.deepEqual(signerKeyIdHints(v.mu), ids);
      assert.deepEqual(signerKeyIdHints(atOffset(utf8(v.mu))), ids);
    }
    for (const n of negatives) signerKeyIdHints(fromBase64(n.muBase64, 'E_BUNDLE_SYNTAX', 'vector'));
    assert.deepEqual(signerKeyIdHints('\n— 12\n— zz'), []);
    assert.deepEqual(signerKeyIdHints(utf8('\n— ')), []);
  });
});
