/**
 * Which ML-DSA implementation runs. Portable noble by default, so `core` works anywhere
 * (browsers, Node 22, Fabric's stock chaincode runtime); Node entry points call
 * `preferNativeMlDsa()` from `native.ts` to switch to OpenSSL when the runtime has it.
 */
import type { MlDsaBackend } from './mldsa.js';
import { nobleBackend } from './noble.js';

let current: MlDsaBackend = nobleBackend;

export function mlDsa(): MlDsaBackend {
  return current;
}

export function useMlDsaBackend(backend: MlDsaBackend): void {
  current = backend;
}
