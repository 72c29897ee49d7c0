/**
 * C2SP signed-note (https://c2sp.org/signed-note): a text ending in a newline, a blank line, then
 * one or more signature lines `— <key name> <base64(4-byte key hash ‖ signature)>`.
 *
 * Notes arrive from untrusted places (a bundle, a server), so opening one follows "verify, then
 * parse": `openNote` only splits the note and checks signatures of known keys; the caller parses
 * the text (a checkpoint body, see checkpoint.ts) after that. In TORGO every signed note is a
 * checkpoint, so failures carry the checkpoint codes: E_CHECKPOINT_SYNTAX for a malformed or
 * oversized note, E_CHECKPOINT_SIGNATURE for a signature that fails or is missing.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { CoreError } from '../errors.js';
import { fromBase64, fromUtf8, toBase64, utf8 } from '../encoding.js';

/**
 * Largest note accepted, in bytes. signed-note requires accepting at least 16 signatures and
 * warns that post-quantum ones are near 5 kB: 32 ML-DSA-87 lines (≈ 6.2 kB of base64 each) and a
 * checkpoint body fit with room to spare.
 */
export const MAX_NOTE_BYTES = 256 * 1024;
/** Most signature lines accepted in one note (signed-note: at least 16). */
export const MAX_NOTE_SIGNATURES = 32;
/** U+2014 EM DASH and a space start every signature line. */
export const NOTE_SIGNATURE_PREFIX = '\u2014 ';

/** One signature line: the key's name and 32-bit key hash ("key ID"), and the raw signature. */
export interface NoteSignature {
  readonly name: string;
  /** The first four bytes of the decoded signature, big-endian: identifies the key with `name`. */
  readonly keyHash: number;
  readonly signature: Uint8Array;
}

export interface Note {
  /** The signed text, including its final newline but not the blank separator line. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** A key a note can be verified with; `verify` returns false for a bad signature, never throws. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyHash: number;
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

export interface NoteSigner {
  readonly name: string;
  readonly keyHash: number;
  sign(text: Uint8Array): Uint8Array;
}

/** A note whose signatures from known keys all verified (at least one did). */
export interface OpenedNote {
  readonly text: string;
  /** Signatures from known keys, all verified; one per key. */
  readonly verified: readonly NoteSignature[];
  /** Signatures from keys not in the verifier list: ignored, as signed-note requires. */
  readonly unknown: readonly NoteSignature[];
}

function malformed(message: string, details?: Record<string, unknown>): CoreError {
  return new CoreError('E_CHECKPOINT_SYNTAX', `signed note: ${message}`, { reason: 'malformed', ...details });
}

function tooLarge(message: string): CoreError {
  return new CoreError('E_CHECKPOINT_SYNTAX', `signed note: ${message}`, { reason: 'too-large' });
}

/** signed-note: key names are non-empty and contain no Unicode space and no '+'. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\p{White_Space}+]/u.test(name) && !hasForbiddenCharacters(name);
}

/**
 * True if `text` has a character a signed note may not contain: an ASCII control other than LF
 * (signed-note §Format), or a lone UTF-16 surrogate (which has no UTF-8 encoding).
 */
export function hasForbiddenCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return true;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return true;
    }
  }
  return false;
}

/**
 * The signed-note key hash (C2SP calls it key ID): the first four bytes, big-endian, of
 * SHA-256(key name ‖ 0x0A ‖ key material), where key material is the signature type byte(s)
 * followed by the public key encoding.
 */
export function noteKeyHash(name: string, keyMaterial: Uint8Array): number {
  const nameBytes = utf8(name);
  const buf = new Uint8Array(nameBytes.length + 1 + keyMaterial.length);
  buf.set(nameBytes, 0);
  buf[nameBytes.length] = 0x0a;
  buf.set(keyMaterial, nameBytes.length + 1);
  const d = sha256(buf);
  return ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
}

/** `name+hhhhhhhh`, the way signed-note tools print a key. */
export function keyLabel(name: string, keyHash: number): string {
  return `${name}+${keyHash.toString(16).padStart(8, '0')}`;
}

/** Decodes attacker-controlled input to a string, enforcing the size limit and UTF-8 validity. */
function decodeInput(input: string | Uint8Array): string {
  if (typeof input === 'string') {
    // UTF-8 is never shorter than UTF-16 code units: reject huge strings before encoding them.
    if (input.length > MAX_NOTE_BYTES || utf8(input).length > MAX_NOTE_BYTES) {
      throw tooLarge(`larger than ${MAX_NOTE_BYTES} bytes`);
    }
    return input;
  }
  if (!(input instanceof Uint8Array)) throw malformed('expected text or bytes');
  if (input.length > MAX_NOTE_BYTES) throw tooLarge(`larger than ${MAX_NOTE_BYTES} bytes`);
  return fromUtf8(input, 'E_CHECKPOINT_SYNTAX', 'signed note');
}

function parseSignatureLine(line: string, lineNo: number): NoteSignature {
  if (!line.startsWith(NOTE_SIGNATURE_PREFIX)) {
    throw malformed(`line ${lineNo}: a signature line starts with "— " (U+2014, space)`, { line: lineNo });
  }
  const rest = line.slice(NOTE_SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? rest : rest.slice(0, space);
  const b64 = space < 0 ? '' : rest.slice(space + 1);
  if (!isValidKeyName(name)) throw malformed(`line ${lineNo}: invalid key name`, { line: lineNo });
  if (b64 === '') throw malformed(`line ${lineNo}: missing signature`, { line: lineNo });
  const raw = fromBase64(b64, 'E_CHECKPOINT_SYNTAX', `signed note line ${lineNo}: signature`);
  if (raw.length < 5) throw malformed(`line ${lineNo}: signature shorter than a key hash`, { line: lineNo });
  const keyHash = ((raw[0]! << 24) | (raw[1]! << 16) | (raw[2]! << 8) | raw[3]!) >>> 0;
  return { name, keyHash, signature: raw.subarray(4) };
}

/**
 * Splits a note into text and signature lines, checking syntax only (attacker-controlled input;
 * nothing here says the text is genuine — use `openNote`).
 */
export function parseNote(input: string | Uint8Array): Note {
  const note = decodeInput(input);
  if (hasForbiddenCharacters(note)) throw malformed('control characters other than newline are not allowed');
  // The text ends at the last blank line; signature lines never contain one.
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw malformed('no blank line between the text and the signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw malformed('the signature lines must end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw tooLarge(`more than ${MAX_NOTE_SIGNATURES} signatures`);
  const firstLine = text.split('\n').length + 1;
  return { text, signatures: lines.map((line, i) => parseSignatureLine(line, firstLine + i)) };
}

function formatSignatureLine(s: NoteSignature): string {
  const raw = new Uint8Array(4 + s.signature.length);
  raw[0] = s.keyHash >>> 24;
  raw[1] = (s.keyHash >>> 16) & 0xff;
  raw[2] = (s.keyHash >>> 8) & 0xff;
  raw[3] = s.keyHash & 0xff;
  raw.set(s.signature, 4);
  return `${NOTE_SIGNATURE_PREFIX}${s.name} ${toBase64(raw)}\n`;
}

function checkText(text: string): void {
  if (!text.endsWith('\n')) throw malformed('the text must end with a newline');
  if (hasForbiddenCharacters(text)) throw malformed('control characters other than newline are not allowed');
}

/** Serialises a note (text, blank line, signature lines) after checking what it would sign. */
export function formatNote(note: Note): string {
  checkText(note.text);
  if (note.signatures.length === 0) throw malformed('a signed note has at least one signature');
  if (note.signatures.length > MAX_NOTE_SIGNATURES)
    throw tooLarge(`more than ${MAX_NOTE_SIGNATURES} signatures`);
  for (const s of note.signatures) {
    if (!isValidKeyName(s.name)) throw new CoreError('E_KEY_INVALID', `invalid note key name "${s.name}"`);
  }
  const out = `${note.text}\n${note.signatures.map(formatSignatureLine).join('')}`;
  if (utf8(out).length > MAX_NOTE_BYTES) throw tooLarge(`larger than ${MAX_NOTE_BYTES} bytes`);
  return out;
}

/**
 * Signs `text` with each signer and returns the note. `existing` signatures (cosignatures
 * already collected over the same text) are kept, except those a signer replaces (same name
 * and key hash); new lines come last.
 */
export function signNote(
  text: string,
  signers: readonly NoteSigner[],
  existing: readonly NoteSignature[] = [],
): string {
  checkText(text);
  const message = utf8(text);
  const fresh = signers.map((s): NoteSignature => {
    if (!isValidKeyName(s.name)) throw new CoreError('E_KEY_INVALID', `invalid note key name "${s.name}"`);
    return { name: s.name, keyHash: s.keyHash >>> 0, signature: s.sign(message) };
  });
  const replaced = new Set(fresh.map((s) => keyLabel(s.name, s.keyHash)));
  const kept = existing.filter((s) => !replaced.has(keyLabel(s.name, s.keyHash)));
  return formatNote({ text, signatures: [...kept, ...fresh] });
}

/**
 * Opens a note (signed-note "Signatures"): every signature from a known key (same name AND key
 * hash) must verify, signatures from unknown keys are ignored, and at least one known key must
 * have signed. The returned text is then safe to parse.
 */
export function openNote(input: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const known = new Map<string, NoteVerifier>();
  for (const v of verifiers) {
    const label = keyLabel(v.name, v.keyHash);
    if (known.has(label)) throw new CoreError('E_KEY_INVALID', `two trusted keys are both ${label}`);
    known.set(label, v);
  }
  const note = parseNote(input);
  const message = utf8(note.text);
  const verified = new Map<string, NoteSignature>();
  const unknown: NoteSignature[] = [];
  for (const s of note.signatures) {
    const label = keyLabel(s.name, s.keyHash);
    const verifier = known.get(label);
    if (!verifier) {
      unknown.push(s);
      continue;
    }
    // signed-note: a failing signature from a known key SHOULD reject the whole note. We do,
    // for repeated lines from the same key too: each one must verify.
    if (!verifier.verify(message, s.signature)) {
      throw new CoreError(
        'E_CHECKPOINT_SIGNATURE',
        `signed note: the signature of ${label} does not verify`,
        {
          reason: 'invalid-signature',
          key: label,
        },
      );
    }
    if (!verified.has(label)) verified.set(label, s);
  }
  if (verified.size === 0) {
    const seen = note.signatures.map((s) => keyLabel(s.name, s.keyHash)).join(', ');
    throw new CoreError(
      'E_CHECKPOINT_SIGNATURE',
      `signed note: no signature from a trusted key (found: ${seen})`,
      {
        reason: 'no-trusted-signature',
      },
    );
  }
  return { text: note.text, verified: [...verified.values()], unknown };
}
