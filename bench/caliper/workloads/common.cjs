'use strict';
// Shared by the TORGO workloads: core (ES modules, from dist/) and this worker's signing key.
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const dist = path.resolve(__dirname, '..', '..', '..', 'dist');
const load = (file) => import(pathToFileURL(path.join(dist, file)).href);

/** core, on native ML-DSA (Node >= 24.7), and a key of its own for this worker. */
async function setUp(workerIndex) {
  const core = await load('core/index.js');
  const { preferNativeMlDsa } = await load('core/crypto/native.js');
  preferNativeMlDsa({ verifyWorkers: 0 });
  const seed = new Uint8Array(32).fill(40 + workerIndex);
  const key = core.privateKeyFromSeed('ML-DSA-65', seed);
  return { core, key, source: `caliper-worker-${workerIndex}` };
}

/** One signed receipt, as a service would make it. */
function receipt({ core, key, source }, n) {
  const text = core.createReceiptText({
    fields: {
      format: 'torgo.receipt/1',
      id: core.newUlid(),
      source,
      operation: 'vitals.forward',
      subject: `urn:torgo:subject:${n % 1000}`,
      occurredAt: new Date().toISOString(),
      payloadDigests: [`sha256:${(n + 1).toString(16).padStart(64, '0')}`],
    },
    sections: [{ name: 'Intent', lines: [`Forward vitals batch ${n}.`] }],
  });
  return core.signReceipt(core.parseReceipt(text), key);
}

/** Registers this worker's key (a KEY_EXISTS answer from an earlier run is fine). */
async function registerKey(sutAdapter, ctx) {
  try {
    await sutAdapter.sendRequests({
      contractId: 'torgo',
      contractFunction: 'registerKey',
      contractArguments: [ctx.core.publicKeyToPem(ctx.key), ctx.source],
      invokerIdentity: 'org1-appender',
      readOnly: false,
    });
  } catch (e) {
    if (!/KEY_EXISTS/.test(String(e?.message))) throw e;
  }
}

module.exports = { setUp, receipt, registerKey };
