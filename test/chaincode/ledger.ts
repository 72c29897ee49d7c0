/**
 * What the contract tests drive: a ledger running AuditContract through fabric-shim's dispatcher,
 * with identities carrying `torgo.role`. Helpers build ML-DSA keys and signed receipts with core.
 */
import './quiet-logs.js';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import {
  createReceiptText,
  newUlid,
  type PrivateKey,
  parseReceipt,
  privateKeyFromSeed,
  publicKeyToPem,
  type ReceiptDocument,
  signReceipt,
} from '../../core/index.js';
import { auditContracts } from '../../chaincode/contract.js';
import { pooledMlDsa } from '../../core/crypto/verify-pool.js';
import { EngineLedger } from './engine-ledger.js';
import { MemoryLedger } from './memory-ledger.js';

/** The contract as the embedded gateway runs it: OpenSSL ML-DSA on a worker pool (no memo: nothing pre-verifies). */
const contracts = auditContracts(pooledMlDsa({ memo: false }));

export interface LedgerActor {
  readonly name: string;
  readonly mspId: string;
  /** Whatever the ledger needs to act as this identity. */
  readonly creator: unknown;
  /** The PEM certificate. */
  readonly certificate: Uint8Array;
}

export interface ContractEvent {
  readonly name: string;
  readonly payload: Uint8Array;
}

export interface SubmitOutcome {
  readonly result: string;
  readonly event: ContractEvent | undefined;
  /** Keys the transaction wrote. */
  readonly writes: readonly string[];
}

export interface TestLedger {
  identity(name: string, mspId: string, role?: string): Promise<LedgerActor>;
  submit(actor: LedgerActor, fcn: string, ...args: string[]): Promise<SubmitOutcome>;
  evaluate(actor: LedgerActor, fcn: string, ...args: string[]): Promise<string>;
  close(): Promise<void>;
}

export interface Cast {
  ledger: TestLedger;
  alice: LedgerActor; // appender, Org1
  bob: LedgerActor; // appender, Org2
  relay: LedgerActor; // appender, Org1: submits receipts others signed
  auditor: LedgerActor;
  admin: LedgerActor;
  operator: LedgerActor; // log-operator
  nobody: LedgerActor; // no torgo.role
  multi: LedgerActor; // "auditor, log-operator"
}

/**
 * Every contract test runs on both: the embedded engine (real LevelDB and blocks: what the
 * gateway runs) and the memory stub (which also checks the contract closes its iterators).
 */
export const LEDGERS = ['engine', 'memory'] as const;
export type LedgerKind = (typeof LEDGERS)[number];

export async function openCast(kind: LedgerKind): Promise<Cast> {
  const ledger = kind === 'engine' ? await EngineLedger.open(contracts) : new MemoryLedger(contracts);
  return {
    ledger,
    alice: await ledger.identity('alice', 'Org1MSP', 'appender'),
    bob: await ledger.identity('bob', 'Org2MSP', 'appender'),
    relay: await ledger.identity('relay', 'Org1MSP', 'appender'),
    auditor: await ledger.identity('auditor', 'Org2MSP', 'auditor'),
    admin: await ledger.identity('admin', 'Org1MSP', 'admin'),
    operator: await ledger.identity('operator', 'Org1MSP', 'log-operator'),
    nobody: await ledger.identity('nobody', 'Org1MSP'),
    multi: await ledger.identity('multi', 'Org2MSP', 'auditor, log-operator'),
  };
}

/** A deterministic ML-DSA-65 key: seed byte i = (n + i) mod 256. */
export function testKey(n: number, alg: PrivateKey['alg'] = 'ML-DSA-65'): PrivateKey {
  return privateKeyFromSeed(
    alg,
    Uint8Array.from({ length: 32 }, (_, i) => (n + i) % 256),
  );
}

export const pem = (key: PrivateKey): string => publicKeyToPem(key);

let ulidCounter = 0;
/** Fresh ULIDs in increasing order. */
export function nextId(): string {
  ulidCounter++;
  return newUlid(
    1_795_000_000_000 + ulidCounter,
    Uint8Array.from({ length: 10 }, (_, i) => (ulidCounter * 7 + i) % 256),
  );
}

export interface ReceiptSpec {
  id?: string;
  source?: string;
  operation?: string;
  subject?: string;
  occurredAt?: string;
  intent?: string;
}

export function unsignedReceipt(spec: ReceiptSpec = {}): string {
  const doc: ReceiptDocument = {
    fields: {
      format: 'torgo.receipt/1',
      id: spec.id ?? nextId(),
      source: spec.source ?? 'icu-relay-3',
      operation: spec.operation ?? 'vitals.forward',
      subject: spec.subject ?? 'urn:torgo:subject:7f3a9c',
      occurredAt: spec.occurredAt ?? '2026-11-25T13:07:48.123Z',
      payloadDigests: ['sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    },
    sections: [{ name: 'Intent', lines: [spec.intent ?? 'Forward vitals batch 42 to the EHR bridge.'] }],
  };
  return createReceiptText(doc);
}

/** A receipt signed by every key given (in any order: the block is sorted by key id). */
export function signedReceipt(keys: readonly PrivateKey[], spec: ReceiptSpec = {}): string {
  let text = unsignedReceipt(spec);
  for (const key of keys) text = signReceipt(parseReceipt(text), key);
  return text;
}

export function idOf(mu: string): string {
  return parseReceipt(mu).document.fields.id;
}

/** Asserts the promise rejects with a message starting with `code: ` (and matching `pattern`). */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  pattern?: RegExp,
): Promise<string> {
  try {
    await promise;
  } catch (e) {
    const message = (e as Error).message;
    assert.ok(message.startsWith(`${code}: `), `expected ${code}, got: ${message}`);
    if (pattern) assert.match(message, pattern);
    return message;
  }
  assert.fail(`expected ${code}, but the transaction succeeded`);
}

const { ClientIdentity } = createRequire(import.meta.url)('fabric-shim') as {
  ClientIdentity: new (stub: unknown) => { getID(): string };
};

/** The owner/submitter record of an actor: `{ mspId, id }` as the contract sees the caller. */
export function partyOf(actor: LedgerActor): { mspId: string; id: string } {
  const stub = {
    getChannelID: () => 'torgo',
    getTxID: () => '',
    getCreator: () => ({ mspid: actor.mspId, idBytes: actor.certificate }),
  };
  return { mspId: actor.mspId, id: new ClientIdentity(stub).getID() };
}

export function json<T = Record<string, unknown>>(text: string): T {
  return JSON.parse(text) as T;
}

export function eventJson(outcome: SubmitOutcome): { name: string; payload: Record<string, unknown> } {
  assert.ok(outcome.event, 'the transaction emitted no event');
  return { name: outcome.event.name, payload: json(Buffer.from(outcome.event.payload).toString('utf8')) };
}

/** Registers `key` as `actor` and returns its key id. */
export async function register(cast: Cast, actor: LedgerActor, key: PrivateKey, label = ''): Promise<string> {
  const out = await cast.ledger.submit(actor, 'registerKey', pem(key), label);
  return json<{ keyId: string }>(out.result).keyId;
}
