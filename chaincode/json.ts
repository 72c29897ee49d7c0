/**
 * Deterministic JSON: the one serialisation of everything the contract writes to state, emits in
 * events and returns. Object keys are sorted (UTF-16 code unit order, as `Array.prototype.sort`
 * compares strings), so every peer produces byte-identical state values and response payloads
 * whatever order the code built an object in — endorsement compares those bytes.
 */

import { canonicalJson as coreCanonicalJson } from '../core/json.js';
import { jsonEscapedUtf8 } from '../core/json-utf8.js';

export type Json =
  | string
  | number
  | boolean
  | null
  | readonly Json[]
  | { readonly [key: string]: Json | undefined };

/** Sorted-key JSON (core/json.ts, shared with the engine and the transparency log), typed for state. */
export function canonicalJson(value: Json): string {
  return coreCanonicalJson(value);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function jsonBytes(value: Json): Uint8Array {
  return encoder.encode(canonicalJson(value));
}

type JsonObject = { readonly [key: string]: Json | undefined };

/**
 * `jsonBytes(value)`, given also `utf8` = the UTF-8 encoding of the string `value[key]`: that string
 * is escaped byte-wise from `utf8` (core/json-utf8.ts), never escaped into a second string and
 * encoded again; the other properties go through canonicalJson as always. Canonical JSON lists keys
 * in sorted order, so the result is the properties before `key`, then `key`, then those after it.
 * Same bytes as `jsonBytes(value)` (test/chaincode/record-bytes.test.ts). Why: a receipt record's
 * `.mu` (chaincode/receipts.ts).
 */
export function jsonBytesWithUtf8(value: JsonObject, key: string, utf8: Uint8Array): Uint8Array {
  const text = value[key];
  const keys = Object.keys(value);
  // (`before.__proto__ = …` would set a prototype, not a property: such an object takes the definition.)
  if (typeof text !== 'string' || keys.includes('__proto__')) return jsonBytes(value);
  const before: Record<string, Json | undefined> = {};
  const after: Record<string, Json | undefined> = {};
  for (const k of keys) {
    if (k < key) before[k] = value[k];
    else if (k > key) after[k] = value[k];
  }
  const head = canonicalJson(before).slice(0, -1);
  const tail = canonicalJson(after).slice(1);
  const prefix = `${head}${head.length > 1 ? ',' : ''}${JSON.stringify(key)}:"`;
  const suffix = `"${tail.length > 1 ? ',' : ''}${tail}`;
  const escaped = jsonEscapedUtf8(text, utf8);
  // A UTF-16 code unit is at most 3 UTF-8 bytes: room for both ends, then cut to what was written.
  const out = new Uint8Array(3 * (prefix.length + suffix.length) + escaped.length);
  let n = encoder.encodeInto(prefix, out).written;
  out.set(escaped, n);
  n += escaped.length;
  n += encoder.encodeInto(suffix, out.subarray(n)).written;
  return out.subarray(0, n);
}

/** A state value this contract wrote, as text (strict UTF-8). */
export function stateText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Parses a state value this contract wrote. */
export function parseStateJson<T>(bytes: Uint8Array): T {
  return JSON.parse(stateText(bytes)) as T;
}
