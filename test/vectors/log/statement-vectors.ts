/**
 * How the export statement golden vector is made (README.md): a `torgo.bundle/2` statement over
 * the checkpoint vector's tree, signed by the same log key. The test rebuilds it byte for byte.
 */
import { toHex } from '../../../core/encoding.js';
import { privateKeyFromSeed, publicKeyToPem } from '../../../core/crypto/pem.js';
import { mlDsaNoteKeyHash } from '../../../core/log/note-mldsa.js';
import {
  type ExportStatement,
  formatStatement,
  STATEMENT_CONTEXT,
  signStatement,
} from '../../../core/bundle/statement.js';
import { fixedSeed } from './checkpoint-vectors.js';
import { hex } from './log-vectors.js';

export interface StatementVector {
  description: string;
  context: string;
  statement: {
    origin: string;
    checkpoint: { size: number; rootHash: string };
    filters: Record<string, string>;
    createdAt: string;
    counts: { keys: number; receipts: number };
    digest: string;
  };
  signer: { name: string; alg: 'ML-DSA-65'; seed: string; keyHash: string; publicKeyPem: string };
  /** The note text (what is signed). */
  text: string;
  /** The signed note, as `signStatement(…, { deterministic: true })` writes it. */
  note: string;
}

export function buildStatementVector(): StatementVector {
  const origin = 'ledger.torgo.example/log/v1';
  const statement: ExportStatement = {
    origin,
    checkpoint: { size: 7, rootHash: hex('ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c') },
    // Given out of order: the statement writes them as RFC 8785 canonical JSON.
    filters: { to: '2026-12-01T00:00:00Z', source: 'icu-relay-3', from: '2026-11-01T00:00:00Z' },
    createdAt: '2026-12-01T17:00:00.000Z',
    counts: { keys: 2, receipts: 150 },
    digest: `sha256:${toHex(new Uint8Array(32).map((_, i) => i))}`,
  };
  const key = privateKeyFromSeed('ML-DSA-65', fixedSeed(10));
  return {
    description:
      'Export statement (docs/bundle-format.md §3) over the checkpoint vector\'s tree at size 7, signed ' +
      'deterministically (FIPS 204 rnd = 0) by the log key of checkpoint-mldsa65.json under the statement context.',
    context: new TextDecoder().decode(STATEMENT_CONTEXT),
    statement: {
      origin,
      checkpoint: { size: 7, rootHash: toHex(statement.checkpoint.rootHash) },
      filters: { ...statement.filters },
      createdAt: statement.createdAt,
      counts: { ...statement.counts },
      digest: statement.digest,
    },
    signer: {
      name: origin,
      alg: 'ML-DSA-65',
      seed: toHex(key.seed),
      keyHash: mlDsaNoteKeyHash(origin, key, STATEMENT_CONTEXT).toString(16).padStart(8, '0'),
      publicKeyPem: publicKeyToPem(key),
    },
    text: formatStatement(statement),
    note: signStatement(statement, key, { deterministic: true }),
  };
}
