/**
 * Bundle completeness (docs/bundle-format.md §6): checks, while the bundle streams by, that the
 * receipts of a source or subject chain over the header's time window are all there, and that every
 * bundled key's history reaches its head. Constant memory per chain: only the last bundled entry of
 * the receipt chain and of each key chain is kept.
 *
 * What is proven from the log alone: the bundled chain segment is contiguous (each entry's
 * builder-assigned back-pointer names the bundled entry before it — a leaf covered by the
 * checkpoint, so the pointers are the ones every organisation's builder computed); it starts at the
 * chain's first entry or at an entry before the window; every entry in it that the filters select
 * is a receipt, not withheld. Where the segment ends before the window's end, an entry at or after
 * `to` proves the end; where it reaches the present, the exporter's `completeness` line states the
 * chain's head at the checkpoint — asserted, not proven (§6.4).
 */
import { type CoreError, type CoreErrorCode, isCoreError } from '../errors.js';
import type { Checkpoint } from '../log/checkpoint.js';
import { isChainedReceipt, type ReceiptEntry, timeNanos } from './entries.js';
import { type KeyHeadsCommitment, keyHeadsOf, verifyKeyHead } from './keyheads.js';
import type { ChainBy, CompletenessLine, KeyLine, LinkLine, ReceiptHead } from './format.js';

export interface CompletenessFailure {
  readonly line: number;
  readonly id?: string;
  readonly code: CoreErrorCode;
  readonly message: string;
}

/** What the report says about completeness. */
export interface CompletenessSummary {
  /**
   * `proven`: the chain segment and the key histories check out; `keys-only`: no chain covers the
   * filters (see `uncovered`), the key histories check out; `not-claimed`: the bundle has no
   * completeness line (an exporter before chains); `failed`: a completeness failure was reported.
   */
  readonly status: 'proven' | 'keys-only' | 'not-claimed' | 'failed';
  readonly chain: { readonly by: ChainBy; readonly value: string } | null;
  /** Chain entries bundled (receipts and links). */
  readonly chainEntries: number;
  /** Receipt lines in the bundle (0 with links only: a window proven empty, §6.4). */
  readonly receipts?: number;
  /** How the segment's start is shown: the chain's first entry, or an entry before the window. */
  readonly start?: 'chain-start' | 'before-window';
  /** How its end is shown: an entry at or after `to` (proven), or the exporter's stated head (asserted). */
  readonly end?: 'after-window' | 'stated-head';
  /**
   * The largest step back in `committedAt` between consecutive bundled chain entries, in ms (absent
   * when none): commit times are proposal timestamps, so the window's edges are exact only to within
   * the chain's steps back (§6.4).
   */
  readonly backwardStepMs?: number;
  /** Keys whose history was checked up to its head. */
  readonly keyChains: number;
  /**
   * How the key heads are known: `proven` against the checkpoint's key-heads commitment (a
   * checkpoint every cosigner recomputed), or `stated` by the exporter (a checkpoint without one).
   */
  readonly keyHeads?: 'proven' | 'stated';
  /** Why no chain covers the filters, when `chain` is null. */
  readonly uncovered?: string;
}

interface Last {
  readonly leafIndex: number;
  readonly time: bigint;
}

/** The chain that covers a header's filters, or why none does (§6.3). */
export function chainOfFilters(
  filters: Readonly<Record<string, string>>,
): { chain: { by: ChainBy; value: string } } | { uncovered: string } {
  const other = Object.keys(filters).filter((k) => !['source', 'subject', 'from', 'to'].includes(k));
  if (other.length)
    return { uncovered: `filter ${other.join(', ')} is not in the log entries, so no chain covers it` };
  if (filters['source'] !== undefined) return { chain: { by: 'source', value: filters['source'] } };
  if (filters['subject'] !== undefined) return { chain: { by: 'subject', value: filters['subject'] } };
  return { uncovered: 'the filters name neither a source nor a subject' };
}

const prevOf = (e: ReceiptEntry, by: ChainBy): number | null | undefined =>
  by === 'source' ? e.prevSource : e.prevSubject;

export class CompletenessChecker {
  /** The chain the filters name; null once the statement claims none (or another). */
  private chain: { by: ChainBy; value: string } | null;
  private uncovered: string | undefined;
  private readonly from: bigint | undefined;
  private readonly to: bigint | undefined;
  private readonly subjectFilter: string | undefined;
  private last: Last | undefined;
  private chainEntries = 0;
  private start: CompletenessSummary['start'];
  private readonly keys = new Map<string, number>();
  private claim: CompletenessLine | undefined;
  private failed = false;
  /** The largest step back in committedAt between consecutive bundled chain entries. */
  private backwardNanos = 0n;
  private keyHeadsCommitment: KeyHeadsCommitment | undefined;

  /** `filters` are the header's (attacker-controlled: a bad time is reported, not thrown). */
  constructor(
    filters: Readonly<Record<string, string>>,
    private readonly report: (f: CompletenessFailure) => void,
  ) {
    const c = chainOfFilters(filters);
    this.chain = 'chain' in c ? c.chain : null;
    this.uncovered = 'uncovered' in c ? c.uncovered : undefined;
    const time = (k: 'from' | 'to') => {
      const v = filters[k];
      if (v === undefined) return undefined;
      try {
        return timeNanos(v);
      } catch {
        this.fail(
          1,
          'E_CHAIN_INVALID',
          `the header's "${k}" filter ${JSON.stringify(v)} is not an RFC 3339 UTC time`,
        );
        return undefined;
      }
    };
    this.from = time('from');
    this.to = time('to');
    this.subjectFilter = this.chain?.by === 'source' ? filters['subject'] : undefined;
  }

  private fail(line: number, code: CoreErrorCode, message: string, id?: string): void {
    this.failed = true;
    this.report({ line, ...(id ? { id } : {}), code, message });
  }

  /** The verified checkpoint: its key-heads commitment, if any, is what key heads are proven against. */
  checkpoint(c: Checkpoint, line: number): void {
    try {
      this.keyHeadsCommitment = keyHeadsOf(c);
    } catch (e) {
      if (!isCoreError(e)) throw e;
      this.fail(line, e.code, e.message);
    }
  }

  /** A key line (after its inclusion proof was checked or reported). */
  key(k: KeyLine, line: number): void {
    const last = this.keys.get(k.entry.keyId);
    if (last !== undefined && k.leafIndex <= last) {
      this.fail(line, 'E_CHAIN_INVALID', `key ${k.entry.keyId}: entries are not in leaf order`);
      return;
    }
    if (k.entry.prevKey !== undefined && k.entry.prevKey !== (last ?? null)) {
      this.fail(
        line,
        'E_KEY_CHAIN_GAP',
        `key ${k.entry.keyId}: the entry at leaf ${k.leafIndex} follows leaf ${k.entry.prevKey ?? 'none'}, ` +
          `but the bundle's previous entry of this key is ${last === undefined ? 'none' : `leaf ${last}`}: an entry of its history is missing`,
      );
    }
    this.keys.set(k.entry.keyId, k.leafIndex);
  }

  /** A receipt or link line, in bundle order. */
  entry(r: ReceiptHead | LinkLine, line: number): void {
    const e = r.entry;
    if (!this.claim || !this.chain) {
      if (r.type === 'link') this.fail(line, 'E_CHAIN_INVALID', 'a link line, but no chain is claimed', e.id);
      return;
    }
    const { by, value } = this.chain;
    if (!isChainedReceipt(e)) {
      this.fail(
        line,
        'E_CHAIN_INVALID',
        `entry ${e.id} at leaf ${r.leafIndex} was logged before chains (no ${by} pointer): completeness cannot be shown`,
        e.id,
      );
      return;
    }
    if (e[by] !== value) {
      this.fail(line, 'E_CHAIN_INVALID', `entry ${e.id} is not on the ${by} chain "${value}"`, e.id);
      return;
    }
    let time: bigint;
    try {
      time = timeNanos(e.committedAt);
    } catch (err) {
      this.fail(line, 'E_CHAIN_INVALID', (err as CoreError).message, e.id);
      return;
    }
    const prev = prevOf(e, by);
    const last = this.last;
    if (last) {
      if (r.leafIndex <= last.leafIndex) {
        this.fail(line, 'E_CHAIN_INVALID', `entry ${e.id}: chain entries are not in leaf order`, e.id);
        return;
      }
      if (prev !== last.leafIndex) {
        this.fail(
          line,
          'E_CHAIN_GAP',
          `entry ${e.id} at leaf ${r.leafIndex} follows leaf ${prev ?? 'none'} on the ${by} chain, but the bundle's previous entry is leaf ${last.leafIndex}: an entry is missing`,
          e.id,
        );
      }
      // Commit times are proposal timestamps: concurrent transactions commit in another order than
      // they were proposed, so a chain's committedAt may step back (§6.4). Not a fault of the bundle;
      // the largest step is reported, as the precision of the window's edges.
      if (time < last.time && last.time - time > this.backwardNanos) this.backwardNanos = last.time - time;
    } else if (this.from !== undefined && time < this.from) {
      this.start = 'before-window';
    } else if (prev === null) {
      this.start = 'chain-start';
    } else {
      this.fail(
        line,
        'E_CHAIN_START',
        `the bundle's first ${by} chain entry (${e.id}, leaf ${r.leafIndex}) is in the window and follows leaf ${prev}: the entries before it are not shown to lie before the window`,
        e.id,
      );
    }
    const selected =
      (this.from === undefined || time >= this.from) &&
      (this.to === undefined || time < this.to) &&
      (this.subjectFilter === undefined || e.subject === this.subjectFilter);
    if (selected && r.type === 'link') {
      this.fail(
        line,
        'E_CHAIN_WITHHELD',
        `entry ${e.id} matches the filters but is bundled without its receipt`,
        e.id,
      );
    }
    this.last = { leafIndex: r.leafIndex, time };
    this.chainEntries++;
  }

  /**
   * The completeness line (once, after the keys, before the receipts). Claiming no chain where the
   * filters name one is allowed — the exporter could not show it, e.g. receipts logged before chains
   * — and reported as not proven; claiming another chain is a failure.
   */
  statement(c: CompletenessLine, line: number): void {
    this.claim = c;
    if (c.chain === null) {
      if (this.chain)
        this.uncovered = `the exporter claims no chain for the ${this.chain.by} "${this.chain.value}"`;
      this.chain = null;
    } else if (!this.chain || c.chain.by !== this.chain.by || c.chain.value !== this.chain.value) {
      this.fail(
        line,
        'E_CHAIN_INVALID',
        `the completeness line names the ${c.chain.by} chain "${c.chain.value}", the filters ${this.chain ? `the ${this.chain.by} chain "${this.chain.value}"` : 'none'}`,
      );
      this.chain = null;
    }
  }

  /** At the end of the bundle (`line`: the last line number): tails and key heads. */
  finish(line: number): CompletenessSummary {
    const c = this.claim;
    if (!c) {
      return { status: 'not-claimed', chain: null, chainEntries: 0, keyChains: 0 };
    }
    let end: CompletenessSummary['end'];
    if (this.chain) {
      const last = this.last;
      if (!last) {
        if (c.head !== null)
          this.fail(
            line,
            'E_CHAIN_END',
            `the ${this.chain.by} chain's head is leaf ${c.head}, but the bundle shows none of its entries`,
          );
      } else if (c.head !== null && c.head < last.leafIndex) {
        this.fail(
          line,
          'E_CHAIN_INVALID',
          `the stated chain head, leaf ${c.head}, is before the bundled leaf ${last.leafIndex}`,
        );
      } else if (this.to !== undefined && last.time >= this.to) {
        end = 'after-window';
      } else if (c.head === last.leafIndex) {
        end = 'stated-head';
      } else {
        this.fail(
          line,
          'E_CHAIN_END',
          `the bundle's last ${this.chain.by} chain entry is leaf ${last.leafIndex}, inside the window, but the chain's head is ${c.head === null ? 'stated as none' : `leaf ${c.head}`}: later entries are missing`,
        );
      }
    }
    const commitment = this.keyHeadsCommitment;
    for (const [keyId, last] of this.keys) {
      const why = this.keyHeadProblem(keyId, last, c, commitment);
      if (why) this.fail(line, 'E_KEY_CHAIN_END', `key ${keyId}: ${why}`);
    }
    for (const keyId of Object.keys(c.keyHeads)) {
      if (!this.keys.has(keyId))
        this.fail(
          line,
          'E_KEY_CHAIN_END',
          `key ${keyId}: a head is stated but none of its entries is bundled`,
        );
    }
    return {
      status: this.failed ? 'failed' : this.chain ? 'proven' : 'keys-only',
      chain: this.chain,
      chainEntries: this.chainEntries,
      ...(this.start ? { start: this.start } : {}),
      ...(end ? { end } : {}),
      ...(this.backwardNanos > 0n ? { backwardStepMs: Number(this.backwardNanos / 1_000_000n) } : {}),
      keyChains: this.keys.size,
      ...(this.keys.size ? { keyHeads: commitment ? 'proven' : 'stated' } : {}),
      ...(this.uncovered ? { uncovered: this.uncovered } : {}),
    };
  }

  /** Why a key's bundled history does not provably reach its head, or undefined if it does. */
  private keyHeadProblem(
    keyId: string,
    last: number,
    c: CompletenessLine,
    commitment: KeyHeadsCommitment | undefined,
  ): string | undefined {
    const head = c.keyHeads[keyId];
    if (head === undefined) return 'the completeness line states no head for it';
    if (commitment) {
      const proof = c.keyHeadProofs?.[keyId];
      if (!proof) return "no proof of its head in the checkpoint's key-heads commitment";
      try {
        verifyKeyHead({ keyId, head }, proof, commitment);
      } catch (e) {
        if (!isCoreError(e)) throw e;
        return `head leaf ${head} is not the one the checkpoint commits to (${e.message})`;
      }
    }
    if (head !== last)
      return `its newest entry is leaf ${head}, the bundle's is leaf ${last}: a later change (rotation, revocation) is missing`;
    return undefined;
  }
}
