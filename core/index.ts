/** The public surface of `core`: pure, isomorphic (no Node-only imports). */
export * from './errors.js';
export * from './encoding.js';
export * from './crypto/mldsa.js';
export * from './crypto/keys.js';
export { mlDsa, useMlDsaBackend } from './crypto/backend.js';
export { nobleBackend } from './crypto/noble.js';
export * from './receipt/limits.js';
export * from './receipt/fields.js';
export * from './receipt/document.js';
export * from './receipt/mirror.js';
export * from './receipt/canonical.js';
export * from './receipt/signatures.js';
export * from './receipt/receipt.js';
export * from './receipt/id.js';
