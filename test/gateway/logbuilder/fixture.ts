/** A small real log: keys and signed receipts from core, appended block by block to a LogStore. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createReceiptText,
  type KeyEntry,
  type LogEntry,
  type PrivateKey,
  parseReceipt,
  privateKeyFromSeed,
  publicKey,
  type ReceiptEntry,
  signReceipt,
  toBase64,
} from '../../../core/index.js';
import { Checkpointer } from '../../../gateway/logbuilder/checkpointer.js';
import {
  type ExportedReceipt,
  type ExportOptions,
  exportBundle,
} from '../../../gateway/logbuilder/export.js';
import { LogStore } from '../../../gateway/logbuilder/store.js';

export const ORIGIN = 'torgo.test/log';
export const operatorKey = privateKeyFromSeed('ML-DSA-65', new Uint8Array(32).fill(7));
/** The operator's key as a verifier trusts it (`verifyBundle`'s `trusted`). */
export const operatorTrust = [{ name: ORIGIN, key: publicKey(operatorKey.alg, operatorKey.publicKey) }];
export const owner = { mspId: 'Org1MSP', id: 'x509::CN=relay::CN=ca' };

/** A key entry as the contract's event gives it to the store; `extra` overrides (e.g. `prevKey`). */
export function keyEntry(
  key: PrivateKey,
  event: KeyEntry['event'],
  at: string,
  extra: Partial<KeyEntry> = {},
): KeyEntry {
  return {
    kind: 'key',
    event,
    keyId: key.keyId,
    alg: key.alg,
    publicKey: toBase64(key.publicKey),
    owner,
    validFrom: '2026-01-01T00:00:00.000Z',
    retiredAt: null,
    revokedAt: null,
    revocationReason: null,
    txId: `tx-key-${event}-${key.keyId.slice(0, 6)}`,
    block: 0,
    committedAt: at,
    ...extra,
  };
}

export function signedReceipt(n: number, keys: PrivateKey[], source = 'icu-relay-3'): string {
  let mu = createReceiptText({
    fields: {
      format: 'torgo.receipt/1',
      id: `01JDQ3J7E5V2W8X9Y0Z1A2B${String(n).padStart(3, '0')}`,
      source,
      operation: 'vitals.forward',
      subject: `urn:torgo:subject:${n}`,
      occurredAt: '2026-02-01T00:00:00Z',
      payloadDigests: [`sha256:${n.toString(16).padStart(64, '0')}`],
    },
    sections: [{ name: 'Intent', lines: [`Forward batch ${n}.`] }],
  });
  for (const k of keys) mu = signReceipt(parseReceipt(mu), k, { deterministic: true });
  return mu;
}

export function receiptEntry(mu: string, committedAt: string, n: number): ReceiptEntry {
  const r = parseReceipt(mu);
  return {
    kind: 'receipt',
    id: r.document.fields.id,
    digest: r.digest,
    signers: r.signatures.map((s) => s.keyId),
    submitter: owner,
    txId: `tx-receipt-${n}`,
    block: 0,
    committedAt,
  };
}

export interface LogFixture {
  dir: string;
  store: LogStore;
  checkpointer: Checkpointer;
  receipts: ExportedReceipt[];
  relay: PrivateKey;
  witness: PrivateKey;
  close(): Promise<void>;
}

/** Blocks: 0 keys registered; 1 receipts 1–3; 2 relay revoked; 3 receipt 4 by the witness. */
export async function buildLog(): Promise<LogFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'torgo-log-'));
  const store = await LogStore.open(join(dir, 'log'));
  const relay = privateKeyFromSeed('ML-DSA-65', new Uint8Array(32).fill(1));
  const witness = privateKeyFromSeed('ML-DSA-44', new Uint8Array(32).fill(2));
  const receipts: ExportedReceipt[] = [];
  const blocks: LogEntry[][] = [
    [
      keyEntry(relay, 'registered', '2026-01-01T00:00:00.000Z'),
      keyEntry(witness, 'registered', '2026-01-01T00:00:00.000Z'),
    ],
    [],
    [
      keyEntry(relay, 'revoked', '2026-03-01T00:00:00.000Z', {
        revokedAt: '2026-03-01T00:00:00.000Z',
        revocationReason: 'rotated out',
      }),
    ],
    [],
  ];
  for (let n = 1; n <= 3; n++) {
    const mu = signedReceipt(n, n === 2 ? [relay, witness] : [relay]);
    receipts.push({ id: parseReceipt(mu).document.fields.id, mu });
    blocks[1]!.push(receiptEntry(mu, `2026-02-0${n}T00:00:00.000Z`, n));
  }
  const mu4 = signedReceipt(4, [witness]);
  receipts.push({ id: parseReceipt(mu4).document.fields.id, mu: mu4 });
  blocks[3]!.push(receiptEntry(mu4, '2026-04-01T00:00:00.000Z', 4));
  for (const [i, entries] of blocks.entries()) {
    await store.appendBlock(
      i,
      entries.map((e) => ({ ...e, block: i })),
    );
  }
  const checkpointer = await Checkpointer.open(store, { origin: ORIGIN, key: operatorKey });
  return {
    dir,
    store,
    checkpointer,
    receipts,
    relay,
    witness,
    async close() {
      await checkpointer.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The export of `receipts` (default: the fixture's four) under `filters`, line by line as the gateway
 * streams it; `options` add export options (a held checkpoint, a slice length).
 */
export function exportLines(
  f: LogFixture,
  filters: Record<string, string> = { source: 'icu-relay-3' },
  receipts: readonly ExportedReceipt[] = f.receipts,
  options: Pick<ExportOptions, 'checkpoint' | 'sliceMs'> = {},
): AsyncGenerator<Buffer> {
  return exportBundle({
    store: f.store,
    checkpointer: f.checkpointer,
    receipts: async function* () {
      yield* receipts;
    },
    filters,
    origin: ORIGIN,
    ...options,
  });
}

/** The export of `receipts` (default: the fixture's four) under `filters`, as the gateway streams it. */
export async function bundleText(
  f: LogFixture,
  filters: Record<string, string> = { source: 'icu-relay-3' },
  receipts: readonly ExportedReceipt[] = f.receipts,
): Promise<string> {
  let text = '';
  for await (const line of exportLines(f, filters, receipts)) text += line.toString('utf8');
  return text;
}

/**
 * The fixture's export with `count` more receipts of icu-relay-3 (signed by the witness key, one
 * block after the fixture's): a bundle long enough to span several batches of lines.
 */
export async function longerBundle(f: LogFixture, count: number): Promise<string> {
  const extra = Array.from({ length: count }, (_, i) => signedReceipt(100 + i, [f.witness]));
  await f.store.appendBlock(
    4,
    extra.map((mu, i) => ({
      ...receiptEntry(mu, `2026-04-02T00:00:${String(i).padStart(2, '0')}.000Z`, 100 + i),
      block: 4,
    })),
  );
  const more = extra.map((mu) => ({ id: parseReceipt(mu).document.fields.id, mu }));
  return bundleText(f, { source: 'icu-relay-3' }, [...f.receipts, ...more]);
}
