import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CoreError } from '../../../core/errors.js';
import { toBase64, toHex, utf8 } from '../../../core/encoding.js';
import { privateKeyFromSeed } from '../../../core/crypto/pem.js';
import { publicKeyFromPem } from '../../../core/crypto/pem.js';
import { nobleBackend } from '../../../core/crypto/noble.js';
import { nativeBackend, nativeMlDsaAvailable } from '../../../core/crypto/native.js';
import {
  CHECKPOINT_CONTEXT,
  type Checkpoint,
  type CheckpointPolicy,
  cosignCheckpoint,
  formatCheckpoint,
  MAX_CHECKPOINT_BODY_BYTES,
  parseCheckpointBody,
  signCheckpoint,
  verifyCheckpoint,
  verifyCheckpointConsistency,
} from '../../../core/log/checkpoint.js';
import { hashLeaf, MemoryTree } from '../../../core/log/merkle.js';
import { MAX_NOTE_BYTES, parseNote, signNote } from '../../../core/log/note.js';
import { mlDsaNoteKeyHash, mlDsaNoteSigner } from '../../../core/log/note-mldsa.js';
import {
  buildCheckpointVector,
  type CheckpointVector,
  fixedSeed,
} from '../../vectors/log/checkpoint-vectors.js';
import { loadVectorFile, nonEmpty } from '../../vectors/log/log-vectors.js';

const code = (c: string, reason?: string) => (e: unknown) =>
  e instanceof CoreError && e.code === c && (reason === undefined || e.details?.['reason'] === reason);

const ORIGIN = 'ledger.torgo.example/log/v1';
const logKey = { name: ORIGIN, key: privateKeyFromSeed('ML-DSA-65', fixedSeed(10)) };
const witness1 = { name: 'witness.torgo.example/w1', key: privateKeyFromSeed('ML-DSA-65', fixedSeed(11)) };
const witness2 = { name: 'operator-b.example/ckpt', key: privateKeyFromSeed('ML-DSA-44', fixedSeed(12)) };
const stranger = { name: 'stranger.example/x', key: privateKeyFromSeed('ML-DSA-87', fixedSeed(13)) };
const trusted = (...keys: { name: string; key: typeof logKey.key }[]) =>
  keys.map((k) => ({ name: k.name, key: k.key }));

const tree = new MemoryTree();
for (let i = 0; i < 20; i++) tree.append(hashLeaf(Uint8Array.of(i)));
const checkpointAt = (size: number): Checkpoint => ({ origin: ORIGIN, size, rootHash: tree.root(size) });
const cp12 = checkpointAt(12);
const signed12 = signCheckpoint(cp12, [logKey]);
/** The note with one byte of its first signature (after the key hash) flipped. */
function flipSignatureByte(note: string, at: number): string {
  const { text, signatures } = parseNote(note);
  const [first, ...rest] = signatures;
  const signature = first!.signature.slice();
  signature[at]! ^= 0x01;
  return signNote(text, [{ name: first!.name, keyHash: first!.keyHash, sign: () => signature }], rest);
}
const policy1: CheckpointPolicy = { origin: ORIGIN, trusted: trusted(logKey), threshold: 1 };

describe('checkpoint golden vector (test/vectors/log/checkpoint-mldsa65.json)', () => {
  const vector = loadVectorFile<CheckpointVector>('checkpoint-mldsa65.json');

  it('loads a vector with signers', () => {
    assert.equal(nonEmpty(vector.signers, 'checkpoint signer').length, 2);
  });

  it('is reproduced byte for byte by signCheckpoint({ deterministic: true })', () => {
    assert.deepEqual(buildCheckpointVector(), vector);
  });

  it('states the key hashes of the documented ML-DSA rule', () => {
    for (const s of vector.signers) {
      const key = publicKeyFromPem(s.publicKeyPem);
      assert.equal(
        mlDsaNoteKeyHash(s.name, key, CHECKPOINT_CONTEXT).toString(16).padStart(8, '0'),
        s.keyHash,
      );
    }
  });

  const backends = [nobleBackend, ...(nativeMlDsaAvailable() ? [nativeBackend] : [])];
  for (const b of backends) {
    it(`verifies 2-of-2 with the ${b.name} backend and parses to the stated checkpoint`, () => {
      const policy: CheckpointPolicy = {
        origin: vector.checkpoint.origin,
        trusted: vector.signers.map((s) => ({ name: s.name, key: publicKeyFromPem(s.publicKeyPem) })),
        threshold: 2,
      };
      const { checkpoint, signedBy, body } = verifyCheckpoint(vector.note, policy, b);
      assert.equal(checkpoint.origin, vector.checkpoint.origin);
      assert.equal(checkpoint.size, vector.checkpoint.size);
      assert.equal(toHex(checkpoint.rootHash), vector.checkpoint.rootHash);
      assert.deepEqual(
        signedBy,
        vector.signers.map((s) => `${s.name}+${s.keyHash}`),
      );
      assert.equal(body, formatCheckpoint(checkpoint));
    });
  }
});

describe('checkpoint body (C2SP tlog-checkpoint)', () => {
  it('formats origin, decimal size, base64 root and extension lines, and parses back', () => {
    const cp: Checkpoint = { ...cp12, extensions: ['— not really a signature', 'x=1'] };
    const body = formatCheckpoint(cp);
    assert.equal(body, `${ORIGIN}\n12\n${toBase64(cp12.rootHash)}\n— not really a signature\nx=1\n`);
    assert.deepEqual(parseCheckpointBody(body), cp);
    assert.deepEqual(parseCheckpointBody(formatCheckpoint(checkpointAt(0))).size, 0);
  });

  const root = toBase64(cp12.rootHash);
  const bad: [string, string][] = [
    ['no final newline', `${ORIGIN}\n12\n${root}`],
    ['missing root', `${ORIGIN}\n12\n`],
    ['empty origin', `\n12\n${root}\n`],
    ['leading zero', `${ORIGIN}\n012\n${root}\n`],
    ['sign', `${ORIGIN}\n+12\n${root}\n`],
    ['negative', `${ORIGIN}\n-1\n${root}\n`],
    ['exponent', `${ORIGIN}\n1e3\n${root}\n`],
    ['space', `${ORIGIN}\n 12\n${root}\n`],
    ['2^53', `${ORIGIN}\n9007199254740992\n${root}\n`],
    ['root of 31 bytes', `${ORIGIN}\n12\n${toBase64(new Uint8Array(31))}\n`],
    ['root in hex', `${ORIGIN}\n12\n${toHex(cp12.rootHash)}\n`],
    ['non-canonical base64', `${ORIGIN}\n12\n${root.slice(0, 42)}B=\n`],
    ['empty extension line', `${ORIGIN}\n12\n${root}\n\n`],
    ['too large', `${ORIGIN}\n12\n${root}\n${'x'.repeat(MAX_CHECKPOINT_BODY_BYTES)}\n`],
  ];
  for (const [desc, body] of bad) {
    it(`rejects a body with ${desc}`, () => {
      assert.throws(() => parseCheckpointBody(body), code('E_CHECKPOINT_SYNTAX'));
    });
  }

  it('issues only origins that can double as key names, and only well-formed fields', () => {
    for (const origin of ['', 'has space', 'has+plus', 'two\nlines', 'x'.repeat(256)]) {
      assert.throws(() => formatCheckpoint({ ...cp12, origin }), code('E_CHECKPOINT_SYNTAX'), origin);
    }
    assert.throws(() => formatCheckpoint({ ...cp12, size: -1 }), code('E_CHECKPOINT_SYNTAX'));
    assert.throws(() => formatCheckpoint({ ...cp12, size: 2 ** 53 }), code('E_CHECKPOINT_SYNTAX'));
    assert.throws(
      () => formatCheckpoint({ ...cp12, rootHash: new Uint8Array(33) }),
      code('E_CHECKPOINT_SYNTAX'),
    );
    assert.throws(() => formatCheckpoint({ ...cp12, extensions: [''] }), code('E_CHECKPOINT_SYNTAX'));
  });
});

describe('verifyCheckpoint: verify, then parse', () => {
  it('round-trips: sign, verify, get the checkpoint back', () => {
    const { checkpoint, signedBy } = verifyCheckpoint(signed12, policy1);
    assert.deepEqual(checkpoint, { ...cp12, extensions: [] });
    assert.equal(signedBy.length, 1);
    assert.deepEqual(verifyCheckpoint(utf8(signed12), policy1).checkpoint, checkpoint, 'bytes input');
  });

  it('hedged (randomised) signatures verify too', () => {
    const a = signCheckpoint(cp12, [logKey]);
    const b = signCheckpoint(cp12, [logKey]);
    assert.notEqual(a, b);
    assert.deepEqual(verifyCheckpoint(a, policy1).checkpoint, verifyCheckpoint(b, policy1).checkpoint);
  });

  const tampered: [string, string][] = [
    ['origin', signed12.replace(`${ORIGIN}\n12`, 'ledger.torgo.example/log/v2\n12')],
    ['size', signed12.replace(`${ORIGIN}\n12\n`, `${ORIGIN}\n13\n`)],
    ['root', signed12.replace(toBase64(cp12.rootHash), toBase64(tree.root(13)))],
    ['extension added', signed12.replace(`${toBase64(cp12.rootHash)}\n`, `${toBase64(cp12.rootHash)}\nx\n`)],
    ['signature', flipSignatureByte(signed12, 100)],
  ];
  for (const [what, note] of tampered) {
    it(`a tampered ${what} fails the signature check (E_CHECKPOINT_SIGNATURE)`, () => {
      assert.notEqual(note, signed12);
      assert.throws(
        () => verifyCheckpoint(note, policy1),
        code('E_CHECKPOINT_SIGNATURE', 'invalid-signature'),
      );
    });
  }

  it('a signature line renamed to another key is unknown: no trusted signature', () => {
    const renamed = signed12.replace(`— ${ORIGIN} `, '— someone.else/log ');
    assert.throws(
      () => verifyCheckpoint(renamed, policy1),
      code('E_CHECKPOINT_SIGNATURE', 'no-trusted-signature'),
    );
  });

  it('an untrusted signer is ignored; signed only by strangers, the checkpoint is refused', () => {
    const both = signCheckpoint(cp12, [stranger, logKey]);
    assert.equal(verifyCheckpoint(both, policy1).signedBy.length, 1);
    const strangerOnly = signCheckpoint({ ...cp12, origin: stranger.name }, [stranger]);
    assert.throws(
      () => verifyCheckpoint(strangerOnly, policy1),
      code('E_CHECKPOINT_SIGNATURE', 'no-trusted-signature'),
    );
  });

  it('a body is parsed only after its signature verifies', () => {
    const badBody = `${ORIGIN}\n012\n${toBase64(cp12.rootHash)}\n`;
    const byLog = signNote(badBody, [mlDsaNoteSigner(logKey.name, logKey.key, CHECKPOINT_CONTEXT)]);
    const byStranger = signNote(badBody, [mlDsaNoteSigner(stranger.name, stranger.key, CHECKPOINT_CONTEXT)]);
    assert.throws(() => verifyCheckpoint(byStranger, policy1), code('E_CHECKPOINT_SIGNATURE'));
    assert.throws(() => verifyCheckpoint(byLog, policy1), code('E_CHECKPOINT_SYNTAX'));
  });

  it('a checkpoint of another log, even signed by a trusted key, is refused', () => {
    const other = signCheckpoint({ ...cp12, origin: 'other.example/log' }, [logKey]);
    assert.throws(() => verifyCheckpoint(other, policy1), code('E_CHECKPOINT_SIGNATURE', 'origin-mismatch'));
  });

  it('a signature under another context (a receipt signature) never counts', () => {
    const receiptCtx = utf8('torgo/receipt/v1');
    const asReceipt = signNote(formatCheckpoint(cp12), [
      mlDsaNoteSigner(logKey.name, logKey.key, receiptCtx),
    ]);
    // Another context is another key hash: the line is from an unknown key …
    assert.throws(
      () => verifyCheckpoint(asReceipt, policy1),
      code('E_CHECKPOINT_SIGNATURE', 'no-trusted-signature'),
    );
    // … and relabelled with the checkpoint key hash it does not verify.
    const hash = mlDsaNoteKeyHash(logKey.name, logKey.key, CHECKPOINT_CONTEXT);
    const [sig] = parseNote(asReceipt).signatures;
    const forged = signNote(formatCheckpoint(cp12), [
      { name: logKey.name, keyHash: hash, sign: () => sig!.signature },
    ]);
    assert.throws(
      () => verifyCheckpoint(forged, policy1),
      code('E_CHECKPOINT_SIGNATURE', 'invalid-signature'),
    );
  });

  it('a signed checkpoint with any byte changed, inserted or removed: a coded error or the same checkpoint', () => {
    const bytes = utf8(signed12);
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.nat(255), fc.integer({ min: 0, max: 2 }), (at, value, op) => {
        const copy = Array.from(bytes);
        if (op === 0) copy[at] = value;
        else if (op === 1) copy.splice(at, 0, value);
        else copy.splice(at, 1);
        try {
          // Only a change inside an ignored part could pass — and then it must say the same thing.
          assert.deepEqual(verifyCheckpoint(Uint8Array.from(copy), policy1).checkpoint, {
            ...cp12,
            extensions: [],
          });
        } catch (e) {
          assert.ok(e instanceof CoreError, `uncoded ${String(e)}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it(`rejects notes over ${MAX_NOTE_BYTES} bytes before any signature work`, () => {
    const huge = `${signed12}${'— x AQIDBAU=\n'.repeat(MAX_NOTE_BYTES / 13 + 1)}`;
    assert.throws(() => verifyCheckpoint(huge, policy1), code('E_CHECKPOINT_SYNTAX', 'too-large'));
    assert.throws(
      () => verifyCheckpoint(new Uint8Array(MAX_NOTE_BYTES + 1), policy1),
      code('E_CHECKPOINT_SYNTAX'),
    );
  });
});

describe('cosignatures and threshold policies', () => {
  const policy2of3: CheckpointPolicy = {
    origin: ORIGIN,
    trusted: trusted(logKey, witness1, witness2),
    threshold: 2,
  };

  it('2 of 3: the log alone is not enough; a cosignature makes it; a third is fine', () => {
    assert.throws(
      () => verifyCheckpoint(signed12, policy2of3),
      code('E_CHECKPOINT_SIGNATURE', 'below-threshold'),
    );
    const cosigned = cosignCheckpoint(signed12, [witness2]);
    assert.ok(cosigned.startsWith(signed12), 'the log signature line is kept byte for byte');
    assert.deepEqual(verifyCheckpoint(cosigned, policy2of3).signedBy.length, 2);
    const thrice = cosignCheckpoint(cosigned, [witness1]);
    assert.deepEqual(verifyCheckpoint(thrice, { ...policy2of3, threshold: 3 }).signedBy.length, 3);
  });

  it('two witnesses without the log satisfy 2 of 3 (the policy counts keys, not roles)', () => {
    const note = signCheckpoint(cp12, [witness1, witness2]);
    assert.equal(verifyCheckpoint(note, policy2of3).signedBy.length, 2);
  });

  it('repeating one key’s line does not count twice', () => {
    const lines = signed12.slice(formatCheckpoint(cp12).length + 1);
    assert.throws(
      () => verifyCheckpoint(signed12 + lines, policy2of3),
      code('E_CHECKPOINT_SIGNATURE', 'below-threshold'),
    );
  });

  it('a stranger’s cosignature neither helps nor hurts', () => {
    const note = cosignCheckpoint(signed12, [stranger]);
    assert.throws(
      () => verifyCheckpoint(note, policy2of3),
      code('E_CHECKPOINT_SIGNATURE', 'below-threshold'),
    );
    assert.equal(verifyCheckpoint(note, policy1).signedBy.length, 1);
  });

  it('one bad cosignature from a trusted key rejects the note', () => {
    const cosigned = cosignCheckpoint(signed12, [witness1]);
    const hash = mlDsaNoteKeyHash(witness2.name, witness2.key, CHECKPOINT_CONTEXT);
    const bad = cosigned.concat(
      `— ${witness2.name} ${toBase64(Uint8Array.of(hash >>> 24, (hash >>> 16) & 255, (hash >>> 8) & 255, hash & 255, 1, 2, 3))}\n`,
    );
    assert.throws(
      () => verifyCheckpoint(bad, policy2of3),
      code('E_CHECKPOINT_SIGNATURE', 'invalid-signature'),
    );
  });

  it('policies must be satisfiable and unambiguous', () => {
    for (const threshold of [0, 4, 1.5, Number.NaN]) {
      assert.throws(
        () => verifyCheckpoint(signed12, { ...policy2of3, threshold }),
        code('E_KEY_INVALID'),
        String(threshold),
      );
    }
    assert.throws(
      () =>
        verifyCheckpoint(signed12, {
          ...policy1,
          trusted: [...policy1.trusted, { name: 'alias', key: logKey.key }],
        }),
      code('E_KEY_INVALID'),
    );
    assert.throws(() => verifyCheckpoint(signed12, { ...policy1, origin: '' }), code('E_KEY_INVALID'));
    assert.throws(
      () => verifyCheckpoint(signed12, { ...policy1, trusted: [{ name: 'bad name', key: logKey.key }] }),
      code('E_KEY_INVALID'),
    );
  });

  it('cosigning needs a well-formed checkpoint note', () => {
    assert.throws(() => cosignCheckpoint('nope\n\n— a AQIDBAU=\n', [witness1]), code('E_CHECKPOINT_SYNTAX'));
    assert.throws(() => cosignCheckpoint('garbage', [witness1]), code('E_CHECKPOINT_SYNTAX'));
  });
});

describe('verifyCheckpointConsistency', () => {
  it('accepts a checkpoint that extends the previous one', () => {
    verifyCheckpointConsistency(cp12, checkpointAt(20), tree.consistencyProof(12, 20));
    verifyCheckpointConsistency(cp12, cp12, []);
    verifyCheckpointConsistency(checkpointAt(0), cp12, []);
  });

  it('refuses shrinking, forks, other logs and bad proofs with E_CHECKPOINT_INCONSISTENT', () => {
    const inconsistent = (reason: string) => code('E_CHECKPOINT_INCONSISTENT', reason);
    assert.throws(() => verifyCheckpointConsistency(cp12, checkpointAt(11), []), inconsistent('shrink'));
    assert.throws(
      () => verifyCheckpointConsistency(cp12, { ...cp12, rootHash: tree.root(13) }, []),
      inconsistent('root-mismatch'),
    );
    assert.throws(
      () => verifyCheckpointConsistency(cp12, { ...checkpointAt(20), origin: 'other.example/log' }, []),
      inconsistent('origin'),
    );
    const proof = tree.consistencyProof(12, 20);
    assert.throws(
      () => verifyCheckpointConsistency(cp12, checkpointAt(20), proof.slice(1)),
      inconsistent('proof-length'),
    );
    const fork = new MemoryTree();
    for (let i = 0; i < 20; i++) fork.append(hashLeaf(Uint8Array.of(i === 5 ? 99 : i)));
    assert.throws(
      () =>
        verifyCheckpointConsistency(
          cp12,
          { origin: ORIGIN, size: 20, rootHash: fork.root(20) },
          fork.consistencyProof(12, 20),
        ),
      inconsistent('root-mismatch'),
    );
  });
});
