/**
 * How the checkpoint golden vector is made (README.md). `generate.ts` writes it; the tests
 * rebuild it and require byte equality, so code and vector cannot drift.
 */
import { toHex } from '../../../core/encoding.js';
import { privateKeyFromSeed, publicKeyToPem } from '../../../core/crypto/pem.js';
import { CHECKPOINT_CONTEXT, type Checkpoint, signCheckpoint } from '../../../core/log/checkpoint.js';
import { mlDsaNoteKeyHash } from '../../../core/log/note-mldsa.js';
import { hex } from './log-vectors.js';

/** Seed i: bytes (i*32 + 0) … (i*32 + 31) mod 256 (the receipt vectors' rule). */
export function fixedSeed(i: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, j) => (i * 32 + j) % 256);
}

export interface CheckpointVector {
  description: string;
  context: string;
  checkpoint: { origin: string; size: number; rootHash: string; extensions: string[] };
  signers: { name: string; alg: 'ML-DSA-65'; seed: string; keyHash: string; publicKeyPem: string }[];
  /** The signed note, as `signCheckpoint(…, { deterministic: true })` writes it. */
  note: string;
}

/** The RFC 6962 reference tree at size 7 (root from rfc6962-tree.json), signed by the log and a witness. */
export function buildCheckpointVector(): CheckpointVector {
  const checkpoint: Checkpoint = {
    origin: 'ledger.torgo.example/log/v1',
    size: 7,
    rootHash: hex('ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c'),
    extensions: [],
  };
  const signers = [
    { name: 'ledger.torgo.example/log/v1', key: privateKeyFromSeed('ML-DSA-65', fixedSeed(10)) },
    { name: 'witness.torgo.example/w1', key: privateKeyFromSeed('ML-DSA-65', fixedSeed(11)) },
  ];
  const note = signCheckpoint(checkpoint, signers, { deterministic: true });
  return {
    description:
      'Checkpoint of the RFC 6962 reference tree at size 7, signed deterministically (FIPS 204 rnd = 0) ' +
      'by the log and cosigned by a witness, both ML-DSA-65 keys from fixed seeds.',
    context: new TextDecoder().decode(CHECKPOINT_CONTEXT),
    checkpoint: {
      origin: checkpoint.origin,
      size: checkpoint.size,
      rootHash: toHex(checkpoint.rootHash),
      extensions: [],
    },
    signers: signers.map((s) => ({
      name: s.name,
      alg: 'ML-DSA-65' as const,
      seed: toHex(s.key.seed),
      keyHash: mlDsaNoteKeyHash(s.name, s.key, CHECKPOINT_CONTEXT).toString(16).padStart(8, '0'),
      publicKeyPem: publicKeyToPem(s.key),
    })),
    note,
  };
}
