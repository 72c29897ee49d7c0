/**
 * Deterministic JSON: the one serialisation of everything the contract writes to state, emits in
 * events and returns. Object keys are sorted (UTF-16 code unit order, as `Array.prototype.sort`
 * compares strings), so every peer produces byte-identical state values and response payloads
 * whatever order the code built an object in — endorsement compares those bytes.
 */

export type Json =
  | string
  | number
  | boolean
  | null
  | readonly Json[]
  | { readonly [key: string]: Json | undefined };

/** Sorted-key JSON. Properties whose value is `undefined` are left out, as JSON.stringify does. */
export function canonicalJson(value: Json): string {
  return write(value);
}

// One pass appending to a string, no intermediate arrays: records carry the whole `.mu` text, so
// this runs over every byte appended (test/chaincode/units.test.ts holds it to the plain definition).
function write(value: Json | undefined): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      // Only safe integers: a float's text form is engine-dependent in corner cases, and JSON
      // readers in other languages lose precision above 2^53.
      if (!Number.isSafeInteger(value)) throw new TypeError(`canonicalJson: ${value} is not a safe integer`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + write(value[i]);
        return `${out}]`;
      }
      const obj = value as { readonly [key: string]: Json | undefined };
      const keys = Object.keys(obj).sort();
      let out = '{';
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        out += `${out.length === 1 ? '' : ','}${JSON.stringify(k)}:${write(v)}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot serialise ${typeof value}`);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function jsonBytes(value: Json): Uint8Array {
  return encoder.encode(canonicalJson(value));
}

/** Parses a state value this contract wrote. */
export function parseStateJson<T>(bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes)) as T;
}
