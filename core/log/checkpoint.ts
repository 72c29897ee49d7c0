/**
 * Checkpoints: C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) bodies in signed notes,
 * signed with ML-DSA under the context "torgo/checkpoint/v1" (see note-mldsa.ts).
 *
 *   <origin>\n                 the log's identity
 *   <tree size>\n              ASCII decimal, no leading zeros
 *   <base64 root hash>\n       RFC 9162 root at that size
 *   [<extension line>\n …]     optional, non-empty (NOT RECOMMENDED by the spec)
 *
 * Verification is "verify, then parse" (tessera's ParseCheckpoint): the note's signatures are
 * checked against the policy's keys first, and only a body signed by enough trusted keys is
 * parsed. Cosignatures are more signature lines over the same body.
 */
import { CoreError } from '../errors.js';
import { fromBase64, toBase64, utf8 } from '../encoding.js';
import type { PrivateKey, PublicKey } from '../crypto/keys.js';
import { platformMlDsa } from '../crypto/backend.js';
import type { MlDsaBackend, SignOptions } from '../crypto/mldsa.js';
import { describeInteger } from './bits.js';
import { HASH_SIZE } from './merkle.js';
import { hasForbiddenCharacters, keyLabel, openNote, parseNote, signNote } from './note.js';
import { mlDsaNoteSigner, mlDsaNoteVerifier } from './note-mldsa.js';
import { verifyConsistency } from './proof.js';

/** FIPS 204 context of checkpoint signatures: a checkpoint signature is never valid elsewhere. */
export const CHECKPOINT_CONTEXT = utf8('torgo/checkpoint/v1');
/** Largest checkpoint body (note text) accepted, in bytes. */
export const MAX_CHECKPOINT_BODY_BYTES = 4096;
/** Longest origin, in bytes (tlog-cosignature encodes origins in < 2^8 bytes). */
export const MAX_ORIGIN_BYTES = 255;

export interface Checkpoint {
  /** The log's identity; also the log's key name by convention. */
  readonly origin: string;
  /** Number of leaves. */
  readonly size: number;
  /** RFC 9162 root hash of the first `size` leaves. */
  readonly rootHash: Uint8Array;
  /** Opaque extension lines, in order; usually none. */
  readonly extensions?: readonly string[];
}

/** A key that signs checkpoints: a signed-note key name (the origin, for the log) and an ML-DSA key. */
export interface CheckpointSigner {
  readonly name: string;
  readonly key: PrivateKey;
}

/** A key a verifier trusts for checkpoints: the name it signs under and its public key. */
export interface TrustedKey {
  readonly name: string;
  readonly key: PublicKey;
}

/**
 * What a verifier accepts: checkpoints of the log `origin` signed by at least `threshold`
 * distinct keys among `trusted` (e.g. 2 of 3 operators).
 */
export interface CheckpointPolicy {
  readonly origin: string;
  readonly trusted: readonly TrustedKey[];
  readonly threshold: number;
}

export interface VerifiedCheckpoint {
  readonly checkpoint: Checkpoint;
  /** `name+keyhash` of each trusted key whose signature verified. */
  readonly signedBy: readonly string[];
  /** The verified note text (the checkpoint body exactly as signed). */
  readonly body: string;
}

function syntax(message: string, details?: Record<string, unknown>): CoreError {
  return new CoreError('E_CHECKPOINT_SYNTAX', `checkpoint: ${message}`, details);
}

/** A line of note text: no newline, no other control character. */
function isNotOneLine(line: string): boolean {
  return line.includes('\n') || hasForbiddenCharacters(line);
}

const SIZE_PATTERN = /^(?:0|[1-9][0-9]*)$/;

function checkOrigin(origin: string): void {
  if (typeof origin !== 'string' || origin === '') throw syntax('the origin must be non-empty');
  if (isNotOneLine(origin)) throw syntax('the origin must be one line without control characters');
  if (utf8(origin).length > MAX_ORIGIN_BYTES)
    throw syntax(`the origin is longer than ${MAX_ORIGIN_BYTES} bytes`);
}

/** Serialises a checkpoint body (the note text). What we issue follows the spec's SHOULDs too. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, rootHash, extensions = [] } = checkpoint;
  checkOrigin(origin);
  if (/[\p{White_Space}+]/u.test(origin)) {
    throw syntax(
      'the origin should be a schema-less URL without spaces or "+" (it is also the log\'s key name)',
    );
  }
  if (!Number.isSafeInteger(size) || size < 0)
    throw syntax(`the size must be an integer in [0, 2^53), got ${describeInteger(size)}`);
  if (!(rootHash instanceof Uint8Array) || rootHash.length !== HASH_SIZE) {
    throw syntax(`the root hash must be ${HASH_SIZE} bytes`);
  }
  for (const line of extensions) {
    if (line === '' || isNotOneLine(line)) throw syntax('extension lines must be non-empty single lines');
  }
  const body = [origin, String(size), toBase64(rootHash), ...extensions].map((l) => `${l}\n`).join('');
  if (utf8(body).length > MAX_CHECKPOINT_BODY_BYTES)
    throw syntax(`body larger than ${MAX_CHECKPOINT_BODY_BYTES} bytes`);
  return body;
}

/**
 * Parses a checkpoint body strictly. Only call it on text whose signatures were verified
 * (`verifyCheckpoint` does): an unverified body means nothing.
 */
export function parseCheckpointBody(text: string): Checkpoint {
  if (typeof text !== 'string') throw syntax('expected text');
  if (text.length > MAX_CHECKPOINT_BODY_BYTES || utf8(text).length > MAX_CHECKPOINT_BODY_BYTES) {
    throw syntax(`body larger than ${MAX_CHECKPOINT_BODY_BYTES} bytes`, { reason: 'too-large' });
  }
  if (!text.endsWith('\n')) throw syntax('the body must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3)
    throw syntax('the body needs an origin, a size and a root hash line', { line: lines.length });
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  checkOrigin(origin);
  if (!SIZE_PATTERN.test(sizeText)) {
    throw syntax('line 2: the size must be decimal digits without leading zeros', { line: 2 });
  }
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw syntax('line 2: the size exceeds 2^53 − 1', { line: 2 });
  const rootHash = fromBase64(rootText, 'E_CHECKPOINT_SYNTAX', 'checkpoint line 3: root hash');
  if (rootHash.length !== HASH_SIZE) {
    throw syntax(`line 3: the root hash is ${rootHash.length} bytes, not ${HASH_SIZE}`, { line: 3 });
  }
  extensions.forEach((line, i) => {
    if (line === '' || isNotOneLine(line)) {
      throw syntax(`line ${i + 4}: extension lines must be non-empty`, { line: i + 4 });
    }
  });
  return { origin, size, rootHash, extensions };
}

/** Signs a checkpoint: the note text with one signature line per signer (log first, by convention). */
export function signCheckpoint(
  checkpoint: Checkpoint,
  signers: readonly CheckpointSigner[],
  options?: SignOptions,
): string {
  if (signers.length === 0) throw syntax('at least one signer is needed');
  const body = formatCheckpoint(checkpoint);
  return signNote(
    body,
    signers.map((s) => mlDsaNoteSigner(s.name, s.key, CHECKPOINT_CONTEXT, options)),
  );
}

/**
 * Adds cosignatures — more signature lines over the same body — to a signed checkpoint. The
 * existing lines are kept byte for byte. A cosigner states it checked the checkpoint (its log
 * signature and its consistency with what it saw before): do that with `verifyCheckpoint` and
 * `verifyCheckpointConsistency` before calling this.
 */
export function cosignCheckpoint(
  note: string | Uint8Array,
  cosigners: readonly CheckpointSigner[],
  options?: SignOptions,
): string {
  const parsed = parseNote(note);
  parseCheckpointBody(parsed.text);
  return signNote(
    parsed.text,
    cosigners.map((s) => mlDsaNoteSigner(s.name, s.key, CHECKPOINT_CONTEXT, options)),
    parsed.signatures,
  );
}

function checkPolicy(policy: CheckpointPolicy): void {
  const { origin, trusted, threshold } = policy;
  if (typeof origin !== 'string' || origin === '') {
    throw new CoreError('E_KEY_INVALID', 'checkpoint policy: the expected origin is missing');
  }
  if (!Number.isSafeInteger(threshold) || threshold < 1 || threshold > trusted.length) {
    throw new CoreError(
      'E_KEY_INVALID',
      `checkpoint policy: the threshold must be between 1 and the ${trusted.length} trusted keys, got ${describeInteger(threshold)}`,
    );
  }
  // The same key under two names would count twice towards the threshold.
  const keyIds = new Set(trusted.map((t) => t.key.keyId));
  if (keyIds.size !== trusted.length) {
    throw new CoreError('E_KEY_INVALID', 'checkpoint policy: the same public key is trusted twice');
  }
}

/**
 * Verifies a signed checkpoint against a policy, then parses it: signatures by trusted keys must
 * all verify and number at least `threshold`; unknown signers are ignored; the body must be a
 * well-formed checkpoint of the expected origin. Attacker-controlled input; every failure is a
 * CoreError (E_CHECKPOINT_SYNTAX, E_CHECKPOINT_SIGNATURE).
 */
export function verifyCheckpoint(
  note: string | Uint8Array,
  policy: CheckpointPolicy,
  mlDsa: MlDsaBackend = platformMlDsa,
): VerifiedCheckpoint {
  checkPolicy(policy);
  const verifiers = policy.trusted.map((t) => mlDsaNoteVerifier(t.name, t.key, CHECKPOINT_CONTEXT, mlDsa));
  const opened = openNote(note, verifiers);
  const signedBy = opened.verified.map((s) => keyLabel(s.name, s.keyHash));
  if (signedBy.length < policy.threshold) {
    throw new CoreError(
      'E_CHECKPOINT_SIGNATURE',
      `checkpoint: signed by ${signedBy.length} trusted key(s) (${signedBy.join(', ')}); the policy needs ${policy.threshold}`,
      { reason: 'below-threshold', signedBy, threshold: policy.threshold },
    );
  }
  const checkpoint = parseCheckpointBody(opened.text);
  if (checkpoint.origin !== policy.origin) {
    throw new CoreError(
      'E_CHECKPOINT_SIGNATURE',
      `checkpoint: signed for the log "${checkpoint.origin}", not the expected "${policy.origin}"`,
      { reason: 'origin-mismatch' },
    );
  }
  return { checkpoint, signedBy, body: opened.text };
}

/**
 * Refuses a checkpoint that does not extend the previous one: another origin, a smaller tree,
 * a different root at the same size, or a consistency proof (RFC 9162 §2.1.4) that fails.
 * Throws E_CHECKPOINT_INCONSISTENT (details.reason says which).
 */
export function verifyCheckpointConsistency(
  previous: Checkpoint,
  next: Checkpoint,
  proof: readonly Uint8Array[],
): void {
  const refuse = (message: string, reason: string): never => {
    throw new CoreError(
      'E_CHECKPOINT_INCONSISTENT',
      `checkpoint of size ${next.size} does not extend the previous one of size ${previous.size}: ${message}`,
      { reason },
    );
  };
  if (next.origin !== previous.origin)
    refuse(`origin "${next.origin}" is not "${previous.origin}"`, 'origin');
  if (next.size < previous.size) refuse('the log would shrink', 'shrink');
  try {
    verifyConsistency(previous.size, next.size, proof, previous.rootHash, next.rootHash);
  } catch (e) {
    if (e instanceof CoreError && e.code === 'E_PROOF_INVALID') {
      refuse(e.message, String(e.details?.['reason'] ?? 'proof'));
    }
    throw e;
  }
}
