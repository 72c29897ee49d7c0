import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CoreError } from '../../../core/errors.js';
import { fromBase64, toBase64, toHex, utf8 } from '../../../core/encoding.js';
import { parseCheckpointBody } from '../../../core/log/checkpoint.js';
import {
  formatNote,
  isValidKeyName,
  keyLabel,
  MAX_NOTE_BYTES,
  MAX_NOTE_SIGNATURES,
  type NoteSigner,
  type NoteVerifier,
  noteKeyHash,
  openNote,
  parseNote,
  signNote,
} from '../../../core/log/note.js';

// golang.org/x/mod/sumdb/note: package documentation and note_test.go.
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const PETER_TEXT =
  'If you think cryptography is the answer to your problem,\n' +
  "then you don't know what your problem is.\n";
const PETER_NOTE = `${PETER_TEXT}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

// C2SP tlog-checkpoint / tlog-cosignature examples (an Ed25519 log signature and a witness cosignature).
const SOFA_NOTE =
  'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n' +
  '— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n' +
  '— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n';

const code = (c: string, reason?: string) => (e: unknown) =>
  e instanceof CoreError && e.code === c && (reason === undefined || e.details?.['reason'] === reason);

function parseVkey(vkey: string): { name: string; keyHash: number; material: Uint8Array } {
  const [name, hash, b64] = vkey.split('+') as [string, string, string];
  return { name, keyHash: Number.parseInt(hash, 16), material: fromBase64(b64, 'E_KEY_INVALID', 'vkey') };
}

/** A stand-in for a signature algorithm: "signs" by hashing key || text (enough to test the envelope). */
function fakeKey(name: string, keyHash: number, secret: number): NoteSigner & NoteVerifier {
  const sig = (text: Uint8Array) => Uint8Array.from([secret, ...text.slice(0, 16), text.length & 0xff]);
  return {
    name,
    keyHash,
    sign: sig,
    verify: (text, signature) => toHex(sig(text)) === toHex(signature),
  };
}

describe('signed-note format (golang.org/x/mod sumdb/note vectors)', () => {
  it('key hash = SHA-256(name ‖ LF ‖ type ‖ key)[:4], as in the published verifier keys', () => {
    for (const vkey of [PETER_VKEY, ENOCH_VKEY]) {
      const { name, keyHash, material } = parseVkey(vkey);
      assert.equal(material[0], 0x01, 'Ed25519 type byte');
      assert.equal(noteKeyHash(name, material), keyHash, vkey);
    }
  });

  it('parses the published note: text, key name, key hash and a 64-byte Ed25519 signature', () => {
    const note = parseNote(PETER_NOTE);
    assert.equal(note.text, PETER_TEXT);
    assert.equal(note.signatures.length, 1);
    const [s] = note.signatures;
    assert.equal(s!.name, 'PeterNeumann');
    assert.equal(keyLabel(s!.name, s!.keyHash), 'PeterNeumann+c74f20a3');
    assert.equal(s!.signature.length, 64);
    assert.equal(formatNote(note), PETER_NOTE, 'formatting the parsed note gives back the same bytes');
    assert.deepEqual(parseNote(utf8(PETER_NOTE)), note, 'bytes and text input agree');
  });

  it('parses the C2SP checkpoint example with a log signature and a witness cosignature', () => {
    const note = parseNote(SOFA_NOTE);
    assert.deepEqual(
      note.signatures.map((s) => [s.name, s.signature.length]),
      [
        ['example.com/behind-the-sofa', 64],
        ['witness.example.com/w1', 72],
      ],
    );
    const cp = parseCheckpointBody(note.text);
    assert.equal(cp.origin, 'example.com/behind-the-sofa');
    assert.equal(cp.size, 20852163);
    assert.equal(toBase64(cp.rootHash), 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
    assert.deepEqual(cp.extensions, []);
  });

  it('key names: non-empty, no Unicode space, no plus', () => {
    for (const ok of ['a', 'example.com/log42', 'oid/1.3.6.1.4.1', 'ünïcødé'])
      assert.ok(isValidKeyName(ok), ok);
    for (const bad of ['', 'a b', 'a+b', 'a\tb', 'a\u00a0b', 'a\u2003b', 'a\u3000b', 'a\u0085b', 'a\nb']) {
      assert.ok(!isValidKeyName(bad), JSON.stringify(bad));
    }
  });
});

describe('openNote (signed-note §Signatures)', () => {
  const peter = parseVkey(PETER_VKEY);
  const log = fakeKey('log.example/a', 0x01020304, 1);
  const witness = fakeKey('witness.example/w', 0x0a0b0c0d, 2);
  const text = 'log.example/a\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';

  it('accepts a note signed by a known key; reports verified and unknown signatures', () => {
    const note = signNote(text, [log, witness]);
    const opened = openNote(note, [log]);
    assert.equal(opened.text, text);
    assert.deepEqual(
      opened.verified.map((s) => s.name),
      ['log.example/a'],
    );
    assert.deepEqual(
      opened.unknown.map((s) => s.name),
      ['witness.example/w'],
    );
  });

  it('rejects a note no known key signed (unknown signers are ignored, not trusted)', () => {
    assert.throws(() => openNote(PETER_NOTE, [log]), code('E_CHECKPOINT_SIGNATURE', 'no-trusted-signature'));
    assert.throws(() => openNote(PETER_NOTE, []), code('E_CHECKPOINT_SIGNATURE', 'no-trusted-signature'));
  });

  it('a key matching the name but not the hash (or the reverse) is unknown, not a failure', () => {
    const sameName = fakeKey('PeterNeumann', 0x12345678, 9);
    const sameHash = fakeKey('PaulNeumann', peter.keyHash, 9);
    assert.throws(
      () => openNote(PETER_NOTE, [sameName, sameHash]),
      code('E_CHECKPOINT_SIGNATURE', 'no-trusted-signature'),
    );
  });

  it('rejects the whole note when a known key’s signature fails', () => {
    const wrong = fakeKey('PeterNeumann', peter.keyHash, 9);
    assert.throws(() => openNote(PETER_NOTE, [wrong]), code('E_CHECKPOINT_SIGNATURE', 'invalid-signature'));
    const note = signNote(text, [log, witness]);
    const tampered = note.replace('\n3\n', '\n4\n');
    assert.throws(() => openNote(tampered, [log]), code('E_CHECKPOINT_SIGNATURE', 'invalid-signature'));
  });

  it('every repeated line from a known key must verify; the key counts once', () => {
    const good = signNote(text, [log]);
    const lines = good.slice(text.length + 1);
    assert.equal(openNote(good + lines, [log]).verified.length, 1);
    const forged = `${good}— log.example/a ${toBase64(Uint8Array.of(1, 2, 3, 4, 0xee))}\n`;
    assert.throws(() => openNote(forged, [log]), code('E_CHECKPOINT_SIGNATURE', 'invalid-signature'));
  });

  it('two trusted keys with the same name and key hash are a configuration error', () => {
    assert.throws(
      () => openNote(PETER_NOTE, [log, fakeKey(log.name, log.keyHash, 7)]),
      code('E_KEY_INVALID'),
    );
  });

  it('signNote keeps existing cosignatures and replaces a re-signing key’s old line', () => {
    const first = parseNote(signNote(text, [log, witness]));
    const again = parseNote(signNote(text, [log], first.signatures));
    assert.deepEqual(
      again.signatures.map((s) => s.name),
      ['witness.example/w', 'log.example/a'],
    );
  });
});

describe('malformed notes are E_CHECKPOINT_SYNTAX', () => {
  const sig = `— a ${toBase64(Uint8Array.of(1, 2, 3, 4, 5))}\n`;
  const cases: [string, string | Uint8Array][] = [
    ['empty', ''],
    ['no blank line', `text\n${sig}`],
    ['no signature lines', 'text\n\n'],
    ['signature block without final newline', `text\n\n${sig.slice(0, -1)}`],
    ['hyphen instead of em dash', `text\n\n- a AQIDBAU=\n`],
    ['em dash without space', `text\n\n—a AQIDBAU=\n`],
    ['missing signature', 'text\n\n— a\n'],
    ['empty signature', 'text\n\n— a \n'],
    ['key name with plus', 'text\n\n— a+b AQIDBAU=\n'],
    ['two spaces', 'text\n\n— a  AQIDBAU=\n'],
    ['signature shorter than 5 bytes', 'text\n\n— a AQIDBA==\n'],
    ['non-canonical base64', 'text\n\n— a AQIDBAV=\n'],
    ['unpadded base64', 'text\n\n— a AQIDBAUG\n— a AQIDBAU\n'],
    ['control character in text', `te\u0007xt\n\n${sig}`],
    ['carriage return', `text\r\n\n${sig}`],
    ['lone surrogate', `te\ud800xt\n\n${sig}`],
    ['invalid UTF-8 bytes', Uint8Array.of(0x74, 0xff, 0x0a, 0x0a, ...utf8(sig))],
  ];
  for (const [desc, input] of cases) {
    it(desc, () => {
      assert.throws(() => parseNote(input), code('E_CHECKPOINT_SYNTAX'));
      assert.throws(() => openNote(input, []), code('E_CHECKPOINT_SYNTAX'));
    });
  }

  it(`more than ${MAX_NOTE_SIGNATURES} signature lines`, () => {
    assert.equal(
      parseNote(`text\n\n${sig.repeat(MAX_NOTE_SIGNATURES)}`).signatures.length,
      MAX_NOTE_SIGNATURES,
    );
    assert.throws(
      () => parseNote(`text\n\n${sig.repeat(MAX_NOTE_SIGNATURES + 1)}`),
      code('E_CHECKPOINT_SYNTAX', 'too-large'),
    );
  });

  it(`larger than ${MAX_NOTE_BYTES} bytes, as text or as bytes`, () => {
    const big = `${'x'.repeat(MAX_NOTE_BYTES)}\n\n${sig}`;
    assert.throws(() => parseNote(big), code('E_CHECKPOINT_SYNTAX', 'too-large'));
    assert.throws(() => parseNote(utf8(big)), code('E_CHECKPOINT_SYNTAX', 'too-large'));
    // Multi-byte characters count as bytes, not UTF-16 units.
    const wide = `${'é'.repeat(MAX_NOTE_BYTES / 2)}\n\n${sig}`;
    assert.throws(() => parseNote(wide), code('E_CHECKPOINT_SYNTAX', 'too-large'));
  });

  it('accepts the 16 post-quantum-sized signatures signed-note requires (16 × ML-DSA-87)', () => {
    const pq = `— w ${toBase64(new Uint8Array(4 + 4627))}\n`;
    assert.equal(parseNote(`text\n\n${pq.repeat(16)}`).signatures.length, 16);
  });

  it('the text may contain blank lines: the last one separates the signatures', () => {
    const note = parseNote(`a\n\nb\n\n${sig}`);
    assert.equal(note.text, 'a\n\nb\n');
    // So a signature line before a blank line is text, signed by the lines after it.
    assert.equal(parseNote(`text\n\n${sig}\n${sig}`).text, `text\n\n${sig}`);
  });

  it('signing refuses text that is not a note text', () => {
    const k = fakeKey('a', 1, 1);
    assert.throws(() => signNote('no final newline', [k]), code('E_CHECKPOINT_SYNTAX'));
    assert.throws(() => signNote('bell \u0007\n', [k]), code('E_CHECKPOINT_SYNTAX'));
    assert.throws(() => signNote('ok\n', [fakeKey('bad name', 1, 1)]), code('E_KEY_INVALID'));
    assert.throws(() => signNote('ok\n', []), code('E_CHECKPOINT_SYNTAX'));
  });
});

describe('hostile notes never throw uncoded errors (fast-check)', () => {
  const k = fakeKey('log.example/a', 0x01020304, 1);
  const valid = signNote('log.example/a\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n', [k]);
  const check = (input: string | Uint8Array) => {
    try {
      openNote(input, [k]);
    } catch (e) {
      assert.ok(e instanceof CoreError, `uncoded ${String(e)}`);
    }
  };

  it('arbitrary text and bytes', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), check), { numRuns: 500 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), check), { numRuns: 500 });
  });

  it('a valid note with bytes changed, inserted or removed', () => {
    const bytes = utf8(valid);
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.nat(255), fc.integer({ min: 0, max: 2 }), (at, value, op) => {
        const copy = Array.from(bytes);
        if (op === 0) copy[at] = value;
        else if (op === 1) copy.splice(at, 0, value);
        else copy.splice(at, 1);
        check(Uint8Array.from(copy));
      }),
      { numRuns: 1000 },
    );
  });
});
