/** The export statement: its golden vector (test/vectors/log/statement-mldsa65.json, README.md there) and its text. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type ExportStatement,
  formatStatement,
  openStatement,
  parseStatementBody,
  publicKeyFromPem,
  STATEMENT_CONTEXT,
  toHex,
} from '../../../core/index.js';
import { mlDsaNoteKeyHash } from '../../../core/log/note-mldsa.js';
import { nobleBackend } from '../../../core/crypto/noble.js';
import { nativeBackend, nativeMlDsaAvailable } from '../../../core/crypto/native.js';
import { loadVectorFile } from '../../vectors/log/log-vectors.js';
import { buildStatementVector, type StatementVector } from '../../vectors/log/statement-vectors.js';

describe('export statement golden vector (test/vectors/log/statement-mldsa65.json)', () => {
  const vector = loadVectorFile<StatementVector>('statement-mldsa65.json');

  it('is reproduced byte for byte by signStatement({ deterministic: true })', () => {
    assert.ok(vector.note.length > 0, 'a vector was loaded');
    assert.deepEqual(buildStatementVector(), vector);
  });

  it('states the key hash of the documented ML-DSA rule under the statement context', () => {
    const key = publicKeyFromPem(vector.signer.publicKeyPem);
    assert.equal(vector.context, 'torgo/bundle-statement/v1');
    assert.equal(
      mlDsaNoteKeyHash(vector.signer.name, key, STATEMENT_CONTEXT).toString(16).padStart(8, '0'),
      vector.signer.keyHash,
    );
  });

  for (const b of [nobleBackend, ...(nativeMlDsaAvailable() ? [nativeBackend] : [])]) {
    it(`opens and parses back to the stated statement with the ${b.name} backend`, () => {
      const key = publicKeyFromPem(vector.signer.publicKeyPem);
      const { statement, signedBy } = openStatement(vector.note, [{ name: vector.signer.name, key }], b);
      assert.deepEqual(signedBy, [`${vector.signer.name}+${vector.signer.keyHash}`]);
      assert.deepEqual(
        {
          ...statement,
          checkpoint: { ...statement.checkpoint, rootHash: toHex(statement.checkpoint.rootHash) },
        },
        vector.statement,
      );
    });
  }
});

describe('export statement text', () => {
  const statement = fc.record({
    origin: fc.stringMatching(/^[a-z0-9./-]{1,40}$/),
    checkpoint: fc.record({
      size: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      rootHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    }),
    filters: fc
      .dictionary(
        fc.constantFrom('source', 'subject', 'operation', 'from', 'to'),
        // Any text without a newline: JSON escapes what a note may not contain.
        fc.string({ maxLength: 40 }).filter((v) => !v.includes('\n')),
      )
      .map((d) => ({ ...d })),
    createdAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    counts: fc.record({ keys: fc.nat(), receipts: fc.nat() }),
    digest: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((d) => `sha256:${toHex(d)}`),
  });

  it('parseStatementBody inverts formatStatement', () => {
    fc.assert(
      fc.property(statement, (s) => {
        const back = parseStatementBody(formatStatement(s));
        // Plain data on both sides (fast-check's records have no prototype).
        const plain = (x: ExportStatement) =>
          JSON.parse(
            JSON.stringify({ ...x, checkpoint: { ...x.checkpoint, rootHash: toHex(x.checkpoint.rootHash) } }),
          );
        assert.deepEqual(plain(back), plain(s));
        assert.equal(formatStatement(back), formatStatement(s));
      }),
    );
  });
});
