/**
 * Parse once per append (issue 14). The embedded gateway parses every receipt it accepts (its
 * pre-check) and then the contract, the authority, parses the same text again in the same process.
 * The gateway hands its parse over to a `ReceiptHandOff` it shares with the contract it runs (passed in
 * to both; no process-wide store), and the contract's `handOff.parse(text)` takes it instead of parsing again.
 *
 * Why a hand-over cannot change a result: `parseReceipt` is a pure function of its input (no clock,
 * no configuration, no state), and an entry is taken only by a text *equal* to the one it was parsed
 * from (string equality, not a hash), and only ever holds a successful parse. So a hit returns what
 * parsing would return; a miss parses. The receipt handed over is frozen (it is shared by both
 * readers). Each entry is taken once (the contract's parse removes it) and the store is bounded
 * (count and text length; the oldest go first), so texts whose append never reaches the contract
 * (a refused request, a Fabric ledger in another process) cost nothing but their slot until evicted.
 *
 * Nothing fills it unless a caller does (`torgo verify`, the CLI and the browser never do).
 *
 * Entries are found by a short fingerprint of the text (its length and its last units: a signed
 * receipt's end is its last signature's base64) and taken only by a text equal to the entry's: a Map
 * keyed by the whole text hashed every ~5 KB text twice (V8 hashes a string key in full, and the
 * contract's text is another string than the gateway's), ~5 % of the append's main thread.
 */
import { parseReceipt, type Receipt } from './receipt.js';

/** Entries and UTF-16 units of text held at most (~10 MiB with their parses). */
const HANDOFF_ENTRIES = 512;
const HANDOFF_UNITS = 4 * 1024 * 1024;

/** Units of a text's end in its fingerprint. */
const FINGERPRINT_UNITS = 48;

function fingerprint(text: string): string {
  return `${text.length}:${text.slice(-FINGERPRINT_UNITS)}`;
}

interface Entry {
  readonly text: string;
  readonly receipt: Receipt;
}

export class ReceiptHandOff {
  private readonly entries = new Map<string, Entry>();
  private units = 0;
  private takes = 0;

  constructor(
    private readonly maxEntries = HANDOFF_ENTRIES,
    private readonly maxUnits = HANDOFF_UNITS,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Parses taken so far (each one a parse saved). */
  get taken(): number {
    return this.takes;
  }

  /** Hands over `receipt`, which must be `parseReceipt(text)` (or of `text`'s UTF-8 bytes). */
  give(text: string, receipt: Receipt): void {
    const key = fingerprint(text);
    // (An entry under the same fingerprint stays: for the same text it is the same parse; for another
    // text this one is not handed over, which costs its contract a parse, never a wrong answer.)
    if (text.length > this.maxUnits || this.entries.has(key)) return;
    while (this.entries.size >= this.maxEntries || this.units + text.length > this.maxUnits) {
      const [oldest, entry] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      this.units -= entry.text.length;
    }
    this.entries.set(key, { text, receipt: freezeReceipt(receipt) });
    this.units += text.length;
  }

  /** `parseReceipt(text)`, taking the parse handed over for exactly `text` when there is one. */
  parse(text: string): Receipt {
    return this.take(text) ?? parseReceipt(text);
  }

  /** The parse handed over for exactly `text`, removed; undefined when there is none. */
  take(text: string): Receipt | undefined {
    if (this.entries.size === 0) return undefined; // (no fingerprint when nothing was handed over)
    const key = fingerprint(text);
    const entry = this.entries.get(key);
    if (entry === undefined || entry.text !== text) return undefined;
    this.entries.delete(key);
    this.units -= text.length;
    this.takes++;
    return entry.receipt;
  }
}

function freezeReceipt(receipt: Receipt): Receipt {
  for (const s of receipt.signatures) Object.freeze(s);
  Object.freeze(receipt.signatures);
  for (const s of receipt.document.sections) Object.freeze(Object.freeze(s.lines) && s);
  Object.freeze(receipt.document.sections);
  const { fields } = receipt.document;
  Object.freeze(fields.payloadDigests);
  if (fields.refs) Object.freeze(fields.refs);
  Object.freeze(fields);
  Object.freeze(receipt.document);
  return Object.freeze(receipt);
}
