/**
 * The ML-DSA backend a caller gets when it passes none: package.json's `#crypto-backend` import
 * resolves it per platform (platform/node.ts: OpenSSL where the runtime has it, else noble;
 * platform/portable.ts: noble). Nothing switches it at run time: a process that wants another one
 * (the gateway's pooled, memoised backend; a test comparing backends) passes it in.
 */
import type { MlDsaBackend } from './mldsa.js';
import { mlDsa } from '#crypto-backend';

export const platformMlDsa: MlDsaBackend = mlDsa;
