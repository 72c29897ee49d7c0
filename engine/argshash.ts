/**
 * A transaction's `argsHash` (blockstore.ts): SHA-256 of canonicalJson(args), the parameters after
 * `fcn`. Every parameter is a string, so that JSON is `[` + JSON.stringify of each, comma-separated,
 * + `]`. Built as text, a batch argument (~240 KB of `.mu` texts, which hold non-ASCII and so are
 * two-byte strings) is escaped into a second string and then re-encoded as UTF-8 inside the hash:
 * ~3 ms per batch of 50 on the committer's thread (docs/performance.md §4).
 *
 * The engine already encodes every argument as UTF-8 once (the stub's `getBufferArgs`), and for a
 * well-formed string JSON.stringify's escaping is a byte-for-byte rewrite of those bytes
 * (core/json-utf8.ts), so the hash is taken over the escaped bytes directly (a string holding a lone
 * surrogate is escaped by the definition there). test/engine/fast-paths.test.ts holds this to
 * `sha256Hex(canonicalJson(args))`.
 */
import { createHash } from 'node:crypto';
import { jsonEscapedUtf8 } from '../core/json-utf8.js';
import { canonicalJson, sha256Hex } from './canonical.js';

/** `sha256Hex(canonicalJson(args))`, from `utf8[i]` = the UTF-8 encoding of `args[i]`. */
export function argsHashOf(args: readonly string[], utf8: readonly Buffer[]): string {
  if (args.length !== utf8.length) return sha256Hex(canonicalJson(args));
  const digest = createHash('sha256');
  digest.update('[', 'latin1');
  for (let i = 0; i < utf8.length; i++) {
    digest.update(i === 0 ? '"' : ',"', 'latin1');
    digest.update(jsonEscapedUtf8(args[i]!, utf8[i]!));
    digest.update('"', 'latin1');
  }
  digest.update(']', 'latin1');
  return digest.digest('hex');
}
