/**
 * Deterministic JSON: the one serialisation of everything the contract writes to state, emits in
 * events and returns. Object keys are sorted (UTF-16 code unit order, as `Array.prototype.sort`
 * compares strings), so every peer produces byte-identical state values and response payloads
 * whatever order the code built an object in — endorsement compares those bytes.
 */

import { canonicalJson as coreCanonicalJson } from '../core/json.js';

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

/** A state value this contract wrote, as text (strict UTF-8). */
export function stateText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Parses a state value this contract wrote. */
export function parseStateJson<T>(bytes: Uint8Array): T {
  return JSON.parse(stateText(bytes)) as T;
}
