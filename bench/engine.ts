/**
 * Embedded append, durable (one fsync per block): receipts/s and latency at concurrency 1, 16
 * and 64, single receipts vs batches, next to the raw native ML-DSA verify rate measured in the
 * same run (the contract verifies every signature, so that rate is the ceiling on one thread).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contracts } from '../chaincode/index.js';
import {
  createReceiptText,
  newUlid,
  parseReceipt,
  privateKeyFromSeed,
  publicKeyToPem,
  RECEIPT_CONTEXT,
  signReceipt,
  utf8,
  verifyBytes,
} from '../core/index.js';
import { EmbeddedLedger } from '../engine/index.js';
import { median, opsPerSecond, percentile, type Row, type Suite } from './harness.js';

const key = privateKeyFromSeed('ML-DSA-65', new Uint8Array(32).fill(9));

export function makeReceipts(n: number, source = 'bench-relay'): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const text = createReceiptText({
      fields: {
        format: 'torgo.receipt/1',
        id: newUlid(),
        source,
        operation: 'vitals.forward',
        subject: `urn:torgo:subject:${i % 1000}`,
        occurredAt: new Date().toISOString(),
        payloadDigests: [`sha256:${(i + 1).toString(16).padStart(64, '0')}`],
      },
      sections: [{ name: 'Intent', lines: [`Forward vitals batch ${i}.`] }],
    });
    out.push(signReceipt(parseReceipt(text), key));
  }
  return out;
}

export async function openBenchLedger(): Promise<{
  ledger: EmbeddedLedger;
  appender: Awaited<ReturnType<EmbeddedLedger['createIdentity']>>;
  dir: string;
  close: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'torgo-bench-'));
  const ledger = await EmbeddedLedger.open({ dir, contracts });
  const appender = await ledger.createIdentity({
    mspId: 'Org1MSP',
    name: 'bench',
    attrs: { 'torgo.role': 'appender' },
  });
  await ledger.submit(appender, 'registerKey', [publicKeyToPem(key), 'bench']);
  return {
    ledger,
    appender,
    dir,
    close: async () => {
      await ledger.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `total` operations with at most `concurrency` in flight; returns per-op latencies (ms) and elapsed ms. */
export async function drive(
  total: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<{ latencies: number[]; elapsed: number }> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, elapsed: performance.now() - start };
}

export const engineSuite: Suite = async ({ smoke }) => {
  const rows: Row[] = [];
  const perRun = smoke ? 20 : 600;
  const runs = smoke ? 1 : 3;
  const sample = makeReceipts(1)[0]!;
  const r = parseReceipt(sample);
  const verifyRate = opsPerSecond(
    () => verifyBytes(key, utf8(r.text), r.signatures[0]!.signature, RECEIPT_CONTEXT),
    smoke ? 1 : 5,
    smoke ? 5 : 300,
  );
  rows.push({ suite: 'embedded', name: 'native ML-DSA-65 verify (limit)', value: verifyRate, unit: 'ops/s' });
  const { ledger, appender, close } = await openBenchLedger();
  try {
    for (const concurrency of [1, 16, 64]) {
      const rates: number[] = [];
      const p50s: number[] = [];
      const p99s: number[] = [];
      for (let run = 0; run < runs; run++) {
        const receipts = makeReceipts(perRun);
        const h0 = ledger.height;
        const { latencies, elapsed } = await drive(perRun, concurrency, (i) =>
          ledger.submit(appender, 'appendReceipt', [receipts[i]!]),
        );
        rates.push((perRun * 1000) / elapsed);
        p50s.push(percentile(latencies, 50));
        p99s.push(percentile(latencies, 99));
        if (run === runs - 1) {
          rows.push({
            suite: 'embedded',
            name: `append c=${concurrency}: blocks per 100 tx`,
            value: ((ledger.height - h0) * 100) / perRun,
            unit: 'blocks',
          });
        }
      }
      rows.push({
        suite: 'embedded',
        name: `append single, c=${concurrency}`,
        value: median(rates),
        unit: 'receipts/s',
        limit: { name: 'native verify', value: verifyRate },
        note: `p50 ${median(p50s).toFixed(1)} ms, p99 ${median(p99s).toFixed(1)} ms`,
      });
    }
    const batchSize = smoke ? 5 : 50;
    const batches = smoke ? 2 : 24;
    const rates: number[] = [];
    for (let run = 0; run < runs; run++) {
      const receipts = makeReceipts(batchSize * batches);
      const { elapsed } = await drive(batches, 4, (i) =>
        ledger.submit(appender, 'appendReceipts', [
          JSON.stringify(receipts.slice(i * batchSize, (i + 1) * batchSize)),
        ]),
      );
      rates.push((batchSize * batches * 1000) / elapsed);
    }
    rows.push({
      suite: 'embedded',
      name: `append batch of ${batchSize}, c=4`,
      value: median(rates),
      unit: 'receipts/s',
      limit: { name: 'native verify', value: verifyRate },
    });
  } finally {
    await close();
  }
  return rows;
};
