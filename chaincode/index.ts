/**
 * The chaincode's entry point, what `fabric-chaincode-node start|server` loads (package.json
 * `main`): it expects `contracts`, the contract classes to serve.
 */
import { preferNativeMlDsa } from '../core/crypto/native.js';
import { AuditContract, contracts } from './contract.js';
import { trimDispatchCosts } from './fabric-internals.js';

// OpenSSL's ML-DSA when the runtime has it (Node ≥ 24.7), else noble: verification answers are
// the same on both, so peers on different runtimes still endorse identically.
preferNativeMlDsa();
// The shim's per-message debug logging and per-transaction certificate parse (fabric-internals.ts):
// applied here, in the contract's own process on a peer, not where the contract is merely imported.
trimDispatchCosts();

export { AuditContract, contracts };
