/**
 * Byte copies and searches on the platform's fastest primitives: Node's native ones under the `node`
 * condition of `#crypto-backend` (platform/node.ts), JavaScript loops elsewhere (platform/portable.ts).
 * Both give the same results (test/core/encoding.test.ts), so which one runs changes no answer.
 */
export { indexOfByte, isUtf8, writeAscii } from '#crypto-backend';
