/**
 * Canonical base64 decoding on the platform's fastest decoder: Node's native one under the `node`
 * condition of `#crypto-backend` (platform/node.ts), the JavaScript one of core/encoding.ts elsewhere.
 * Both return the same bytes for canonical text and undefined for anything else (test/core/encoding.test.ts),
 * so which one runs changes no result; `fromBase64` gives the verdict and the message when it is undefined.
 */
export { decodeBase64Canonical } from '#crypto-backend';
