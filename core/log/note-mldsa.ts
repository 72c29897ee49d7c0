/**
 * ML-DSA (FIPS 204) signatures in C2SP signed notes.
 *
 * signed-note assigns no signature type to "ML-DSA over the note text" (its 0x06 is the
 * ML-DSA-44 *cosignature* of c2sp.org/tlog-cosignature, which signs a different, binary message
 * and no context string). It reserves 0xFF for types it does not assign and recommends following
 * that byte with a longer identifier unlikely to collide. Ours (docs/transparency.md §4):
 *
 *   key material = 0xFF ‖ "torgo-ledger/ml-dsa/v1" ‖ 0x20 ‖ alg ‖ 0x20 ‖ context ‖ 0x0A ‖ public key
 *   key hash     = SHA-256(key name ‖ 0x0A ‖ key material)[:4]
 *   signature    = ML-DSA.Sign(private key, note text, ctx = context)   (pure ML-DSA, FIPS 204 §5.2)
 *
 * The identifier names the parameter set and the context, so one key pair used under two
 * contexts (or two parameter sets) gets two key hashes. It is unambiguous: key names contain no
 * newline, the identifier contains no newline and no space inside its parts, and the public key
 * length is fixed by the parameter set.
 */
import { CoreError } from '../errors.js';
import { utf8 } from '../encoding.js';
import { platformMlDsa } from '../crypto/backend.js';
import { type PrivateKey, type PublicKey, signBytes, verifyBytes } from '../crypto/keys.js';
import type { MlDsaBackend, SignOptions } from '../crypto/mldsa.js';
import { isValidKeyName, type NoteSigner, type NoteVerifier, noteKeyHash } from './note.js';

export const ML_DSA_NOTE_SIGNATURE_TYPE = 0xff;
export const ML_DSA_NOTE_IDENTIFIER = 'torgo-ledger/ml-dsa/v1';

/** The context as identifier text: 1–255 printable ASCII bytes, no space (FIPS 204 caps it at 255). */
function contextText(context: Uint8Array): string {
  if (context.length === 0 || context.length > 255 || context.some((b) => b < 0x21 || b > 0x7e)) {
    throw new CoreError(
      'E_KEY_INVALID',
      'a note signing context must be 1–255 printable ASCII bytes without spaces',
    );
  }
  return String.fromCharCode(...context);
}

/** The signed-note key material of an ML-DSA key used under `context`. */
export function mlDsaNoteKeyMaterial(key: PublicKey, context: Uint8Array): Uint8Array {
  const id = utf8(`${ML_DSA_NOTE_IDENTIFIER} ${key.alg} ${contextText(context)}\n`);
  const out = new Uint8Array(1 + id.length + key.publicKey.length);
  out[0] = ML_DSA_NOTE_SIGNATURE_TYPE;
  out.set(id, 1);
  out.set(key.publicKey, 1 + id.length);
  return out;
}

function checkName(name: string): void {
  if (!isValidKeyName(name)) {
    throw new CoreError('E_KEY_INVALID', `invalid note key name "${name}": non-empty, no spaces, no "+"`);
  }
}

export function mlDsaNoteKeyHash(name: string, key: PublicKey, context: Uint8Array): number {
  checkName(name);
  return noteKeyHash(name, mlDsaNoteKeyMaterial(key, context));
}

export function mlDsaNoteVerifier(
  name: string,
  key: PublicKey,
  context: Uint8Array,
  mlDsa: MlDsaBackend = platformMlDsa,
): NoteVerifier {
  const keyHash = mlDsaNoteKeyHash(name, key, context);
  return {
    name,
    keyHash,
    verify: (text, signature) => verifyBytes(key, text, signature, context, mlDsa),
  };
}

export function mlDsaNoteSigner(
  name: string,
  key: PrivateKey,
  context: Uint8Array,
  options?: SignOptions,
): NoteSigner {
  const keyHash = mlDsaNoteKeyHash(name, key, context);
  return {
    name,
    keyHash,
    sign: (text) => signBytes(key, text, context, options),
  };
}
