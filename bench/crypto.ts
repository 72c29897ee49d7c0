/** ML-DSA sign and verify, both backends, all three parameter sets: the limit for everything else. */
import { ML_DSA_ALGORITHMS, nobleBackend, utf8 } from '../core/index.js';
import { nativeBackend, nativeMlDsaAvailable } from '../core/crypto/native.js';
import { opsPerSecond, type Row, type Suite } from './harness.js';

export const cryptoSuite: Suite = async ({ smoke }) => {
  const runs = smoke ? 1 : 5;
  const minMs = smoke ? 5 : 300;
  const message = utf8(`${'receipt text line\n'.repeat(40)}`);
  const context = utf8('torgo/receipt/v1');
  const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
  const backends = [nobleBackend, ...(nativeMlDsaAvailable() ? [nativeBackend] : [])];
  const rows: Row[] = [];
  for (const alg of ML_DSA_ALGORITHMS) {
    const pk = nobleBackend.publicKeyFromSeed(alg, seed);
    const sig = nobleBackend.sign(alg, seed, message, context);
    const rates: Record<string, { sign: number; verify: number }> = {};
    for (const b of backends) {
      rates[b.name] = {
        sign: opsPerSecond(() => b.sign(alg, seed, message, context), runs, minMs),
        verify: opsPerSecond(() => b.verify(alg, pk, message, sig, context), runs, minMs),
      };
    }
    const native = rates['native'];
    for (const b of backends) {
      const r = rates[b.name]!;
      const vsNative = b.name === 'noble' && native;
      rows.push({
        suite: 'ml-dsa',
        name: `${alg} sign (${b.name})`,
        value: r.sign,
        unit: 'ops/s',
        ...(vsNative ? { limit: { name: 'native', value: native.sign } } : {}),
      });
      rows.push({
        suite: 'ml-dsa',
        name: `${alg} verify (${b.name})`,
        value: r.verify,
        unit: 'ops/s',
        ...(vsNative ? { limit: { name: 'native', value: native.verify } } : {}),
      });
    }
  }
  return rows;
};
