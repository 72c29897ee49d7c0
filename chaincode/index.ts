/**
 * The chaincode's entry point, what `fabric-chaincode-node start|server` loads (package.json
 * `main`): it expects `contracts`, the contract classes to serve.
 */
import { AuditContract, contracts } from './contract.js';
import { trimDispatchCosts } from './fabric-internals.js';
import { serializers } from './serializer.js';

// The contract verifies with the platform's ML-DSA (core/crypto/platform/node.ts, package.json
// `#crypto-backend`, condition `node`, bundled by chaincode/build.mjs): OpenSSL's when the peer's Node
// has it (≥ 24.7), else noble. Answers are the same on both, so peers on different runtimes endorse
// identically. No memo and no worker pool here: a peer verifies each signature once, in its own process.
// The shim's per-message debug logging and per-transaction certificate parse (fabric-internals.ts):
// applied here, in the contract's own process on a peer, not where the contract is merely imported.
trimDispatchCosts();

// Queries hand their answers over as UTF-8 bytes (serializer.ts): the bootstrap reads `serializers`.
export { AuditContract, contracts, serializers };
