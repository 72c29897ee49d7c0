/**
 * Canonical JSON, the one byte form of everything TORGO hashes, signs or compares across
 * machines: log entries (docs/bundle-format.md §2), the contract's state, events and answers
 * (every endorsing peer must produce the same bytes), and the embedded engine's blocks.
 * RFC 8785 (JCS) for the values we use: object keys sorted by UTF-16 code units, no white space,
 * strings as JSON.stringify writes them (JCS's rules), safe integers only (so JCS's number
 * formatting never matters), properties whose value is `undefined` left out as JSON.stringify does.
 *
 * One pass appending to a string, no intermediate arrays: it runs over whole receipts and blocks.
 * A value it cannot encode is a programming error: TypeError.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value))
        throw new TypeError(`canonical JSON allows only safe integers, got ${value}`);
      return String(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
        return `${out}]`;
      }
      const object = value as Record<string, unknown>;
      const keys = Object.keys(object).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = object[k];
        if (v === undefined) continue;
        out += `${first ? '' : ','}${quotedKey(k)}${canonicalJson(v)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot encode a ${typeof value}`);
  }
}

/**
 * `JSON.stringify(key) + ':'`, remembered for short keys: the same few dozen property names (a
 * receipt record's, an answer's, a block transaction's) are quoted on every append, a third of
 * canonicalJson's time on a record. A pure function of the key, so remembering changes no output;
 * bounded in count and key length, and forgotten all at once when full.
 */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_LIMIT = 1024;
const QUOTED_KEY_LENGTH = 64;

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = `${JSON.stringify(key)}:`;
    if (key.length <= QUOTED_KEY_LENGTH) {
      if (quotedKeys.size >= QUOTED_KEYS_LIMIT) quotedKeys.clear();
      quotedKeys.set(key, quoted);
    }
  }
  return quoted;
}
