/**
 * verify-pool.ts: the worker pool answers exactly what the backend answers, job by job; the memo
 * only ever holds tuples the verifier accepted and never turns a rejection into an acceptance;
 * the async receipt check is the sync one.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  CoreError,
  createReceiptText,
  type MlDsaBackend,
  nobleBackend,
  parseReceipt,
  privateKeyFromSeed,
  RECEIPT_CONTEXT,
  signReceipt,
  utf8,
  verifyReceiptSignatures,
  verifyReceiptSignaturesAsync,
} from '../../core/index.js';
import { nativeBackend } from '../../core/crypto/native.js';
import {
  threadCpuBusy,
  pooledMlDsa,
  VerificationMemo,
  withVerificationMemo,
  withVerificationPool,
} from '../../core/crypto/verify-pool.js';

const key = privateKeyFromSeed('ML-DSA-65', new Uint8Array(32).fill(3));
const other = privateKeyFromSeed('ML-DSA-44', new Uint8Array(32).fill(4));
const third = privateKeyFromSeed('ML-DSA-44', new Uint8Array(32).fill(5));
const ctx = RECEIPT_CONTEXT;

function jobs(n: number) {
  return Array.from({ length: n }, (_, i) => {
    const k = i % 3 === 0 ? other : key;
    const message = utf8(`message ${i}\n`);
    const signature = nativeBackend.sign(k.alg, k.seed, message, ctx);
    // Every fourth job is wrong in a different way: message, signature byte, context, key.
    const wrong = i % 4 === 1;
    const kind = i % 16;
    return {
      alg: k.alg,
      publicKey: wrong && kind === 5 ? (k === key ? other : key).publicKey : k.publicKey,
      message: wrong && kind === 1 ? utf8(`message ${i}!\n`) : message,
      signature: wrong && kind === 9 ? signature.map((b, j) => (j === 7 ? b ^ 1 : b)) : signature,
      context: wrong && kind === 13 ? utf8('torgo/other/v1') : ctx,
      expected: !wrong,
    };
  });
}

/** The native backend counting its verify calls. */
function counting(): MlDsaBackend & { calls: number } {
  const b: MlDsaBackend & { calls: number } = {
    ...nativeBackend,
    calls: 0,
    verify(...args: Parameters<MlDsaBackend['verify']>) {
      b.calls++;
      return nativeBackend.verify(...args);
    },
  };
  return b;
}

describe('verification pool', () => {
  const pooled = withVerificationPool(nativeBackend, { workers: 2 });
  after(() => pooled.pool?.close());

  it('answers every job of a mixed batch as the backend does, in order', async () => {
    const all = jobs(64);
    const answers = await Promise.all(
      all.map((j) => pooled.verifyAsync!(j.alg, j.publicKey, j.message, j.signature, j.context)),
    );
    assert.deepEqual(
      answers,
      all.map((j) => j.expected),
    );
    assert.deepEqual(
      answers,
      all.map((j) => nativeBackend.verify(j.alg, j.publicKey, j.message, j.signature, j.context)),
    );
    assert.ok(all.some((j) => !j.expected) && all.some((j) => j.expected));
  });

  it('verifies on this thread when a worker dies, still with the right answers', async () => {
    const fragile = withVerificationPool(nativeBackend, {
      workers: 1,
      workerUrl: new URL('data:text/javascript,process.exit(3)'),
    });
    const all = jobs(8);
    const answers = await Promise.all(
      all.map((j) => fragile.verifyAsync!(j.alg, j.publicKey, j.message, j.signature, j.context)),
    );
    assert.deepEqual(
      answers,
      all.map((j) => j.expected),
    );
  });
});

describe('verification pool, low-load jobs on this thread (inlineUpTo)', () => {
  const here = counting();
  let busy = false;
  const pooled = withVerificationPool(here, { workers: 1, inlineUpTo: 1, mainThreadBusy: () => busy });
  after(() => pooled.pool?.close());
  const check = (j: ReturnType<typeof jobs>[number]) =>
    pooled.verifyAsync!(j.alg, j.publicKey, j.message, j.signature, j.context);
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  it('a lone job while the workers are idle is verified here, with the backend’s answer', async () => {
    const [good, bad] = jobs(2);
    assert.equal(await check(good!), true);
    assert.equal(await check(bad!), false);
    assert.equal(here.calls, 2, 'both on this thread');
  });

  it('a turn with more jobs goes to the workers, and so does a lone job while they are busy', async () => {
    const before = here.calls;
    const all = jobs(6);
    const batch = all.slice(0, 5).map(check);
    await nextTurn(); // the batch's turn has been posted: the worker holds it (it is still starting)
    const lone = check(all[5]!);
    assert.deepEqual(
      [...(await Promise.all(batch)), await lone],
      all.map((j) => j.expected),
    );
    assert.equal(here.calls, before, 'none verified on this thread');
  });

  it('a lone job while this thread is busy goes to the workers', async () => {
    const before = here.calls;
    const [good, bad] = jobs(2);
    busy = true;
    try {
      assert.equal(await check(good!), true);
      assert.equal(await check(bad!), false);
    } finally {
      busy = false;
    }
    assert.equal(here.calls, before, 'none verified on this thread');
  });
});

describe('threadCpuBusy', () => {
  it('says busy when this thread used more than half of the last ~100 ms, not when it waited', () => {
    let cpu = 0;
    let wall = 0;
    const busy = threadCpuBusy({ cpuMs: () => cpu, wallMs: () => wall });
    wall += 150;
    cpu += 100; // 100 ms of CPU in 150 ms
    assert.equal(busy(), true);
    wall += 50;
    assert.equal(busy(), true, 'kept until ~100 ms more have passed');
    wall += 100;
    cpu += 40; // 40 ms in 150 ms: a thread that waited (for I/O, or for a core other processes held)
    assert.equal(busy(), false);
  });

  it("reads this thread's real CPU time by default: spinning is busy, sleeping is not", async () => {
    const t0 = performance.now();
    const busy = threadCpuBusy();
    const start = process.threadCpuUsage();
    // Spin until this thread has used 150 ms of CPU, however long a loaded machine makes that take.
    for (;;) {
      const u = process.threadCpuUsage(start);
      if (u.user + u.system >= 150_000) break;
    }
    const wall = performance.now() - t0;
    const spun = busy();
    // 150 ms of CPU within 250 ms of wall time is more than half a core.
    if (wall < 250) assert.equal(spun, true, `150 ms of CPU in ${wall.toFixed(0)} ms`);
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(busy(), false, 'a thread that slept 150 ms is idle');
  });
});

describe('verification memo', () => {
  it('holds only accepted tuples; a hit skips the verifier, a changed input never hits', async () => {
    const backend = counting();
    const memo = new VerificationMemo();
    const b = withVerificationMemo(backend, memo);
    const [good, bad] = [jobs(1)[0]!, jobs(2)[1]!];
    assert.equal(b.verify(bad.alg, bad.publicKey, bad.message, bad.signature, bad.context), false);
    assert.equal(b.verify(bad.alg, bad.publicKey, bad.message, bad.signature, bad.context), false);
    assert.equal(backend.calls, 2, 'rejections are never remembered');
    assert.equal(memo.size, 0);
    assert.equal(b.verify(good.alg, good.publicKey, good.message, good.signature, good.context), true);
    assert.equal(
      await b.verifyAsync!(good.alg, good.publicKey, good.message, good.signature, good.context),
      true,
    );
    assert.equal(b.verify(good.alg, good.publicKey, good.message, good.signature, good.context), true);
    assert.equal(backend.calls, 3, 'the acceptance was remembered');
    // Each input changed on its own: a miss, and the verifier's own answer.
    const changed = [
      { ...good, message: utf8('message 0!\n') },
      { ...good, signature: good.signature.map((x, j) => (j === 0 ? x ^ 1 : x)) },
      { ...good, context: utf8('torgo/other/v1') },
      { ...good, publicKey: third.publicKey },
      { ...good, alg: 'ML-DSA-65' as const, publicKey: key.publicKey },
    ].filter((c) => VerificationMemo.key(c) !== VerificationMemo.key(good));
    assert.equal(changed.length, 5);
    for (const c of changed) {
      const callsBefore: number = backend.calls;
      assert.equal(b.verify(c.alg, c.publicKey, c.message, c.signature, c.context), false);
      assert.equal(backend.calls, callsBefore + 1);
    }
  });

  it('keys are unambiguous: moving bytes between fields changes the key', () => {
    const a = {
      alg: 'ML-DSA-44' as const,
      publicKey: utf8('ab'),
      message: utf8('c'),
      signature: utf8(''),
      context: utf8(''),
    };
    const b = { ...a, publicKey: utf8('a'), message: utf8('bc') };
    const c = { ...a, publicKey: utf8('a'), context: utf8('b') };
    assert.equal(new Set([a, b, c].map((j) => VerificationMemo.key(j))).size, 3);
  });

  it('by signature array: only the exact tuple accepted with that array hits; anything else takes the key or the verifier', async () => {
    const backend = counting();
    const memo = new VerificationMemo();
    const b = withVerificationMemo(backend, memo);
    const good = jobs(1)[0]!;
    memo.addAccepted(good);
    assert.equal(memo.size, 0, 'nothing by key');
    assert.equal(memo.hasAccepted(good), true);
    assert.equal(b.verify(good.alg, good.publicKey, good.message, good.signature, good.context), true);
    assert.equal(backend.calls, 0, 'a hit by array skips the verifier');
    // Equal bytes in another array: not found by array (found by key only once something added the key).
    const copy = { ...good, signature: good.signature.slice() };
    assert.equal(memo.hasAccepted(copy), false);
    // Every input changed on its own, the signature array kept (each byte of the copy is compared, lengths
    // too): a miss, and the verifier's own answer.
    const changed = [
      { ...good, message: utf8('message 0!\n') },
      { ...good, message: good.message.subarray(1) },
      { ...good, context: utf8('torgo/other/v1') },
      { ...good, context: new Uint8Array(0) },
      { ...good, publicKey: third.publicKey },
      { ...good, publicKey: good.publicKey.map((x, j) => (j === good.publicKey.length - 1 ? x ^ 1 : x)) },
      { ...good, alg: 'ML-DSA-65' as const },
    ];
    for (const c of changed) {
      assert.equal(memo.hasAccepted(c), false);
      const callsBefore: number = backend.calls;
      assert.equal(await b.verifyAsync!(c.alg, c.publicKey, c.message, c.signature, c.context), false);
      assert.equal(backend.calls, callsBefore + 1);
    }
    // The array itself changed after it was accepted: no longer the tuple accepted.
    const mutable = jobs(1)[0]!;
    memo.addAccepted(mutable);
    mutable.signature[9] = mutable.signature[9]! ^ 1;
    assert.equal(memo.hasAccepted(mutable), false);
    const callsBefore: number = backend.calls;
    assert.equal(
      b.verify(mutable.alg, mutable.publicKey, mutable.message, mutable.signature, mutable.context),
      false,
    );
    assert.equal(backend.calls, callsBefore + 1);
  });

  it('by signature array: a public key array reused for many tuples answers each with the bytes it had when that tuple was accepted', () => {
    const memo = new VerificationMemo();
    const signed = (k: typeof other, text: string, publicKey: Uint8Array) => {
      const message = utf8(text);
      return {
        alg: k.alg,
        publicKey,
        message,
        signature: nativeBackend.sign(k.alg, k.seed, message, ctx),
        context: ctx,
      };
    };
    // One key array for every tuple, as the contract's key cache passes it.
    const shared = other.publicKey.slice();
    const a = signed(other, 'a\n', shared);
    const b = signed(other, 'b\n', shared);
    memo.addAccepted(a);
    memo.addAccepted(b);
    assert.equal(memo.hasAccepted(a), true);
    assert.equal(memo.hasAccepted(b), true);
    // The array now holds another key (same length): the tuples accepted before no longer match it ...
    shared.set(third.publicKey);
    assert.equal(memo.hasAccepted(a), false);
    assert.equal(memo.hasAccepted({ ...b, publicKey: third.publicKey }), false);
    // ... but still match the bytes they were accepted with.
    assert.equal(memo.hasAccepted({ ...a, publicKey: other.publicKey }), true);
    // A tuple accepted with the array's new bytes takes a new copy: it matches those bytes only, never the old
    // key's (which never signed it).
    const c = signed(third, 'c\n', shared);
    assert.equal(nativeBackend.verify(c.alg, c.publicKey, c.message, c.signature, c.context), true);
    memo.addAccepted(c);
    assert.equal(memo.hasAccepted(c), true);
    assert.equal(memo.hasAccepted({ ...c, publicKey: third.publicKey }), true);
    assert.equal(memo.hasAccepted({ ...c, publicKey: other.publicKey }), false);
    assert.equal(memo.hasAccepted({ ...b, publicKey: other.publicKey }), true);
  });

  it('evicts the oldest entries past its bound', () => {
    const memo = new VerificationMemo(2);
    for (const k of ['a', 'b', 'c']) memo.add(k);
    assert.deepEqual(
      ['a', 'b', 'c'].map((k) => memo.has(k)),
      [false, true, true],
    );
  });
});

describe('verifyReceiptSignaturesAsync', () => {
  const text = createReceiptText({
    fields: {
      format: 'torgo.receipt/1',
      id: '01JDQ3J7E5V2W8X9Y0Z1A2B3C4',
      source: 'pump-7',
      operation: 'vitals.forward',
      subject: 'urn:torgo:subject:1',
      occurredAt: '2026-02-01T00:00:00Z',
      payloadDigests: [`sha256:${'a'.repeat(64)}`],
    },
    sections: [{ name: 'Intent', lines: ['Forward.'] }],
  });
  const signed = parseReceipt(signReceipt(parseReceipt(signReceipt(parseReceipt(text), key)), other));
  const keys = new Map([
    [key.keyId, key],
    [other.keyId, other],
  ]);
  // Another text, validly signed by `key` alone; and `signed`'s signatures over that text.
  const forged = parseReceipt(signReceipt(parseReceipt(text.replace('.drawroF', '.dedrawroF')), key));
  const swapped = { ...signed, text: forged.text };
  const resolvers: [string, (id: string) => ReturnType<typeof keys.get>][] = [
    ['all keys', (id) => keys.get(id)],
    ['one key missing', (id) => (id === other.keyId ? undefined : keys.get(id))],
    ['a key under the wrong id', (id) => (id === other.keyId ? key : keys.get(id))],
  ];
  const pooled = pooledMlDsa({ workers: 2, memo: true });
  after(() => pooled.pool?.close());
  for (const backend of [nobleBackend, pooled]) {
    it(`gives the sync result or error, every case (${backend.name}${backend.verifyAsync ? ', pooled' : ''})`, async () => {
      for (const receipt of [signed, forged, swapped, { ...signed, signatures: [] }]) {
        for (const [, resolve] of resolvers) {
          let expected: unknown;
          try {
            expected = verifyReceiptSignatures(receipt, resolve, backend);
          } catch (e) {
            expected = e;
          }
          let actual: unknown;
          try {
            actual = await verifyReceiptSignaturesAsync(receipt, resolve, backend);
          } catch (e) {
            actual = e;
          }
          if (expected instanceof CoreError) {
            assert.ok(actual instanceof CoreError);
            assert.equal(actual.code, expected.code);
            assert.equal(actual.message, expected.message);
          } else assert.deepEqual(actual, expected);
        }
      }
    });
  }
});
