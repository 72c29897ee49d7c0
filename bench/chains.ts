/**
 * What verifiable completeness costs (docs/bundle-format.md §6):
 * - per receipt: log building (LogStore.appendBlock, 500 entries per block) with format-2 entries —
 *   two chain back-pointers and two index keys each — against the same entries in format 1;
 * - per checkpoint: the key-heads extension line (walk of the key index + tree) for registries of
 *   100 and 10,000 keys, each with a revocation.
 * Entries are not signed (pointer assignment never reads a signature); the bundle suite measures signed ones.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type KeyEntry,
  type LogEntry,
  privateKeyFromSeed,
  type ReceiptEntry,
  toBase64,
} from '../core/index.js';
import { LogStore } from '../gateway/logbuilder/store.js';
import { median, type Row, type Suite, timed } from './harness.js';

const BLOCK_ENTRIES = 500;
const owner = { mspId: 'Org1MSP', id: 'x509::/OU=client/CN=bench::/CN=ca.org1' };
const pk = toBase64(privateKeyFromSeed('ML-DSA-44', new Uint8Array(32).fill(3)).publicKey);

function time(n: number): string {
  return new Date(Date.UTC(2026, 1, 1) + n * 10).toISOString();
}

/** Receipt `n`: one of 100 sources, one of `total / 4` subjects (patients recur a few times). */
export function receiptEntry(n: number, total: number, chained: boolean): ReceiptEntry {
  return {
    kind: 'receipt',
    id: `01JDQ3J7E5V2W8X9Y${n.toString(32).toUpperCase().padStart(9, '0')}`,
    digest: `sha256:${n.toString(16).padStart(64, '0')}`,
    signers: ['k'.repeat(64)],
    submitter: owner,
    txId: `tx-${n >> 6}`,
    block: 0,
    committedAt: time(n),
    ...(chained
      ? { source: `relay-${n % 100}`, subject: `urn:torgo:subject:${(n * 7919) % Math.max(1, total >> 2)}` }
      : {}),
  };
}

function keyEntry(i: number, event: KeyEntry['event'], at: string): KeyEntry {
  return {
    kind: 'key',
    event,
    keyId: i.toString(16).padStart(64, '0'),
    alg: 'ML-DSA-44',
    publicKey: pk,
    owner,
    validFrom: at,
    retiredAt: null,
    revokedAt: event === 'revoked' ? at : null,
    revocationReason: event === 'revoked' ? 'bench' : null,
    txId: `tx-key-${i}`,
    block: 0,
    committedAt: at,
    prevKey: null,
  };
}

async function build(dir: string, entries: (i: number) => LogEntry, count: number): Promise<LogStore> {
  const store = await LogStore.open(dir);
  let block = 0;
  for (let b = 0; b < count; b += BLOCK_ENTRIES) {
    const batch: LogEntry[] = [];
    for (let i = b; i < Math.min(count, b + BLOCK_ENTRIES); i++) batch.push({ ...entries(i), block });
    await store.appendBlock(block++, batch);
  }
  return store;
}

export const chainsSuite: Suite = async ({ smoke, scratch = tmpdir() }) => {
  const total = smoke ? 2_000 : 200_000;
  const runs = smoke ? 1 : 3;
  const rows: Row[] = [];
  const dir = await mkdtemp(join(scratch, 'torgo-bench-chains-'));
  try {
    const rate = async (chained: boolean) => {
      const rates: number[] = [];
      for (let run = 0; run < runs; run++) {
        const path = join(dir, `log-${chained}-${run}`);
        const { ms, value } = await timed(() => build(path, (i) => receiptEntry(i, total, chained), total));
        await value.close();
        await rm(path, { recursive: true, force: true });
        rates.push((total * 1000) / ms);
      }
      return median(rates);
    };
    // Alternate so load from elsewhere hits both alike.
    const plain = await rate(false);
    const chained = await rate(true);
    rows.push({
      suite: 'chains',
      name: `log building, ${total.toLocaleString('en-US')} receipt entries with source and subject chains`,
      value: chained,
      unit: 'entries/s',
      limit: { name: 'the same entries without chains (format 1)', value: plain },
      note: `${(1e6 / chained - 1e6 / plain).toFixed(1)} µs more per receipt; 100 sources, ${(total >> 2).toLocaleString('en-US')} subjects`,
    });

    for (const keys of smoke ? [100] : [100, 10_000]) {
      const path = join(dir, `keys-${keys}`);
      const store = await build(
        path,
        (i) => (i < keys ? keyEntry(i, 'registered', time(i)) : keyEntry(i - keys, 'revoked', time(i))),
        2 * keys,
      );
      const times: number[] = [];
      for (let run = 0; run < (smoke ? 1 : 5); run++) {
        const { ms, value } = await timed(async () => (await store.keyHeadsTree(store.size - 1)).line);
        if (!value.startsWith(`torgo/key-heads/v1 ${keys} `)) throw new Error(`key heads: ${value}`);
        times.push(ms);
      }
      await store.close();
      rows.push({
        suite: 'chains',
        name: `key-heads line per checkpoint, ${keys.toLocaleString('en-US')} keys (${(2 * keys).toLocaleString('en-US')} key entries)`,
        value: median(times),
        unit: 'ms',
        note: 'walk of the key index and the Merkle tree; nothing per receipt',
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
};
