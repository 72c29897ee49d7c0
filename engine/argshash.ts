/**
 * A transaction's `argsHash` (blockstore.ts): SHA-256 of canonicalJson(args), the parameters after
 * `fcn`. Every parameter is a string, so that JSON is `[` + JSON.stringify of each, comma-separated,
 * + `]`. Built as text, a batch argument (~240 KB of `.mu` texts, which hold non-ASCII and so are
 * two-byte strings) is escaped into a second string and then re-encoded as UTF-8 inside the hash:
 * ~3 ms per batch of 50 on the committer's thread (docs/performance.md §4).
 *
 * The engine already encodes every argument as UTF-8 once (the stub's `getBufferArgs`), and for a
 * well-formed string JSON.stringify's escaping is a byte-for-byte rewrite of those bytes: it escapes
 * only `"`, `\` and U+0000–U+001F (ASCII, so single bytes that never occur inside a multi-byte UTF-8
 * sequence) and writes everything else as is. So the hash is taken over the escaped bytes directly.
 * A string holding a lone surrogate (JSON.stringify writes `\udxxx`; UTF-8 encoding writes U+FFFD)
 * takes the plain definition. test/engine/fast-paths.test.ts holds this to `sha256Hex(canonicalJson(args))`.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, sha256Hex } from './canonical.js';

/**
 * What sends a string to the plain definition: a lone surrogate, or a control character other than
 * LF (rare in arguments; LF is every `.mu` line end). Without them, JSON.stringify escapes exactly
 * the bytes LF, `"` and `\` — each found by Buffer#indexOf (memchr), so the bytes between are copied,
 * never looped over in JavaScript.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for.
const CONTROL_BUT_LF = /[\0-\x09\x0b-\x1f]/;
const LF = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** `sha256Hex(canonicalJson(args))`, from `utf8[i]` = the UTF-8 encoding of `args[i]`. */
export function argsHashOf(args: readonly string[], utf8: readonly Buffer[]): string {
  if (args.length !== utf8.length || !args.every((a, i) => plainFree(a, utf8[i]!))) {
    return sha256Hex(canonicalJson(args));
  }
  const digest = createHash('sha256');
  digest.update('[', 'latin1');
  for (let i = 0; i < utf8.length; i++) {
    digest.update(i === 0 ? '"' : ',"', 'latin1');
    digest.update(escaped(utf8[i]!));
    digest.update('"', 'latin1');
  }
  digest.update(']', 'latin1');
  return digest.digest('hex');
}

/** JSON.stringify's escaping of the text whose UTF-8 is `src` (no lone surrogate, no control but LF), unquoted. */
function escaped(src: Buffer): Buffer {
  const at: number[] = [];
  for (const byte of [LF, QUOTE, BACKSLASH]) {
    for (let p = src.indexOf(byte); p >= 0; p = src.indexOf(byte, p + 1)) at.push(p);
  }
  if (at.length === 0) return src;
  at.sort((a, b) => a - b);
  const out = Buffer.allocUnsafe(src.length + at.length);
  let o = 0;
  let from = 0;
  for (const p of at) {
    o += src.copy(out, o, from, p);
    out[o++] = BACKSLASH;
    out[o++] = src[p] === LF ? 0x6e /* n */ : src[p]!;
    from = p + 1;
  }
  src.copy(out, o, from);
  return out;
}

/** U+FFFD in UTF-8: what encoding writes for a lone surrogate (and for U+FFFD itself). */
const REPLACEMENT = Buffer.from([0xef, 0xbf, 0xbd]);

/**
 * No lone surrogate and no control character but LF. A lone surrogate encodes as U+FFFD, so bytes
 * without one (a memmem) prove the text well-formed; only bytes with one pay String#isWellFormed
 * (ES2024; this project's lib is ES2023). One regex for both would need the `u` flag, ~5x slower
 * on two-byte strings.
 */
function plainFree(text: string, utf8: Buffer): boolean {
  if (CONTROL_BUT_LF.test(text)) return false;
  return utf8.indexOf(REPLACEMENT) < 0 || (text as string & { isWellFormed(): boolean }).isWellFormed();
}
