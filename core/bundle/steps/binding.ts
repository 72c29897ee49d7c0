/**
 * Step 5, contents bound to the claim (docs/bundle-format.md §7 step 5), as `BundleCheck`s: checks of
 * the bundle as a whole that see every key and receipt line as it streams past. The filters are
 * checked per receipt in step 4 (they need the parsed receipt); here: no log entry twice, and no
 * key line that no receipt depends on. Completeness (§6) is one more built-in `BundleCheck`
 * (steps/completeness.ts); callers may pass further ones in `VerifyBundleOptions.checks`.
 */
import { sha256 } from '../../crypto/hash.js';
import { CoreError } from '../../errors.js';
import { utf8 } from '../../encoding.js';
import type { BundleLimit, Failure } from '../findings.js';
import type { CompletenessLine, KeyLine, LinkLine, ReceiptHead } from '../format.js';
import type { BundleHeader } from './header.js';
import type { ProvenCheckpoint } from './checkpoint.js';

/**
 * A whole-bundle check. Its hooks see lines whose own checks (proofs, signatures) may still be
 * running or fail; a line that fails them fails the bundle anyway, so a check may take line
 * contents at face value. A hook throws a CoreError to fail that line (a receipt so failed is
 * counted invalid and not checked further); `finish` runs once every line was read and checked
 * and returns failures of the whole; `summary` gives the report's line on what the check proved
 * (the built-in checks have theirs in the key and receipt lines).
 */
export interface BundleCheck {
  readonly name: string;
  /**
   * Limits of a bundle (BUNDLE_LIMITS) this check lifts: the report stops listing them. Read once,
   * after `finish`: a check whose proof depends on the bundle (completeness) lists a limit only
   * when this bundle proved it.
   */
  readonly proves?: readonly BundleLimit[];
  start?(header: BundleHeader, checkpoint: ProvenCheckpoint): void;
  key?(line: KeyLine, n: number): void;
  receipt?(line: ReceiptHead, n: number): void;
  /** A link line (§6): a chain entry without its receipt, its inclusion proof checked by the orchestrator. */
  link?(line: LinkLine, n: number): void;
  /** The completeness line (§6), once, after the keys. */
  completeness?(line: CompletenessLine, n: number): void;
  finish?(): Failure[];
  summary?(): string | undefined;
}

function duplicate(message: string, n: number): CoreError {
  return new CoreError('E_BUNDLE_DUPLICATE_ENTRY', message, { line: n });
}

/**
 * Leaf indexes seen, one bit each, in 4 KiB pages allocated when first touched: at most
 * size/8 bytes for a tree of `size` leaves, far less for a bundle from one part of the log.
 */
class LeafSet {
  private static readonly PAGE_BITS = 1 << 15;
  private readonly pages = new Map<number, Uint32Array>();
  /** Adds `i`; false if it was there. */
  add(i: number): boolean {
    const pageNo = Math.floor(i / LeafSet.PAGE_BITS);
    let page = this.pages.get(pageNo);
    if (!page) {
      page = new Uint32Array(LeafSet.PAGE_BITS / 32);
      this.pages.set(pageNo, page);
    }
    const bit = i % LeafSet.PAGE_BITS;
    const mask = 1 << (bit & 31);
    if (page[bit >>> 5]! & mask) return false;
    page[bit >>> 5]! |= mask;
    return true;
  }
}

/**
 * Receipt ids seen, as 96-bit fingerprints (the first 12 bytes of SHA-256 of the id) in an
 * open-addressing table: 24 bytes per receipt at most. Two distinct ids share a fingerprint with
 * probability below n²/2⁹⁷ — under 2⁻⁴⁰ for any bundle of fewer than 2²⁸ receipts.
 */
class IdSet {
  private table = new Uint32Array(3 * 1024);
  private used = 0;
  /** Adds `id`; false if it was there. */
  add(id: string): boolean {
    const d = sha256(utf8(id));
    const a = ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
    const b = ((d[4]! << 24) | (d[5]! << 16) | (d[6]! << 8) | d[7]!) >>> 0;
    // Never all-zero: zero marks an empty slot.
    const c = ((d[8]! << 24) | (d[9]! << 16) | (d[10]! << 8) | d[11]!) >>> 0 || 1;
    if ((this.used + 1) * 2 > this.table.length / 3) this.grow();
    if (!this.insert(this.table, a, b, c)) return false;
    this.used++;
    return true;
  }
  private insert(t: Uint32Array, a: number, b: number, c: number): boolean {
    const slots = t.length / 3;
    for (let s = a % slots; ; s = (s + 1) % slots) {
      const at = s * 3;
      if (t[at + 2] === 0) {
        t[at] = a;
        t[at + 1] = b;
        t[at + 2] = c;
        return true;
      }
      if (t[at] === a && t[at + 1] === b && t[at + 2] === c) return false;
    }
  }
  private grow(): void {
    const old = this.table;
    this.table = new Uint32Array(old.length * 2);
    for (let at = 0; at < old.length; at += 3)
      if (old[at + 2] !== 0) this.insert(this.table, old[at]!, old[at + 1]!, old[at + 2]!);
  }
}

/** No log entry twice: neither the same leaf index (key or receipt) nor the same receipt id. */
export function uniqueEntries(): BundleCheck {
  const leaves = new LeafSet();
  const ids = new IdSet();
  return {
    name: 'unique entries',
    key(line, n) {
      if (!leaves.add(line.leafIndex))
        throw duplicate(`log entry ${line.leafIndex} (a key entry) appears twice`, n);
    },
    receipt(line, n) {
      if (!leaves.add(line.leafIndex))
        throw duplicate(`log entry ${line.leafIndex} (receipt ${line.entry.id}) appears twice`, n);
      if (!ids.add(line.entry.id)) throw duplicate(`receipt ${line.entry.id} appears twice`, n);
    },
    link(line, n) {
      if (!leaves.add(line.leafIndex))
        throw duplicate(`log entry ${line.leafIndex} (link ${line.entry.id}) appears twice`, n);
    },
  };
}

/** Key lines only for keys a receipt depends on (signed with): an export carries nothing else. */
export function keysInUse(): BundleCheck {
  const firstLine = new Map<string, number>();
  const used = new Set<string>();
  return {
    name: 'keys in use',
    key(line, n) {
      if (!firstLine.has(line.entry.keyId)) firstLine.set(line.entry.keyId, n);
    },
    receipt(line) {
      for (const k of line.entry.signers) if (firstLine.has(k)) used.add(k);
    },
    finish() {
      return [...firstLine]
        .filter(([keyId]) => !used.has(keyId))
        .map(([keyId, line]) => ({
          line,
          code: 'E_BUNDLE_KEY_UNUSED',
          message: `key ${keyId} signed no receipt in the bundle; an export carries only the keys its receipts depend on`,
        }));
    },
  };
}
