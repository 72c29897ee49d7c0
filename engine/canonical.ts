/**
 * Canonical JSON: the byte form everything hashed by the engine is hashed in (blocks, read sets,
 * arguments, certificate attributes). Object keys sorted by UTF-16 code units and no white space, as in
 * RFC 8785 (JCS); only safe integers are allowed as numbers, so JCS's number formatting never matters.
 *
 * Blocks carry every write's value, so this runs over megabytes per second under load: one pass that
 * appends to a string, no intermediate entry arrays (test/engine/canonical.test.ts holds it to the
 * plain definition).
 */
import { createHash } from 'node:crypto';

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
      // Default sort order is UTF-16 code unit order, as JCS requires.
      const keys = Object.keys(object).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = object[k];
        if (v === undefined) continue;
        out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot encode a ${typeof value}`);
  }
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
