/** Hashing helpers of the engine; canonical JSON is core's (core/json.ts), shared with the contract. */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/json.js';

export { canonicalJson };

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
