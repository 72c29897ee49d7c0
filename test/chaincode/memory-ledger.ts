/**
 * A minimal in-test ledger for the contract tests: fabric-shim's real dispatcher
 * (`ChaincodeFromContract`, what `fabric-chaincode-node` runs) over a memory stub that behaves as a
 * Fabric 2.5 peer with LevelDB does where the contract can tell: reads see committed state only
 * (not the transaction's own writes), a failed transaction writes nothing, one event per transaction
 * (the last `setEvent`), paginated range queries only in read-only transactions, range scans refuse
 * composite keys, history newest first, rich queries refused. Identities are real X.509
 * certificates (openssl) carrying `torgo.role` in Fabric CA's attribute extension, parsed by the
 * shim's own ClientIdentity.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChaincodeResponse, Iterators } from 'fabric-shim-api';
import { shimInternals } from '../../chaincode/fabric-internals.js';
import { serializers } from '../../chaincode/serializer.js';
import type { ContractEvent, LedgerActor, TestLedger } from './ledger.js';

const shim = shimInternals();
const ChaincodeFromContract = shim.ChaincodeFromContract as new (
  contracts: unknown[],
  serializers: unknown,
  metadata: object,
  title: string,
  version: string,
) => { Invoke(stub: unknown): Promise<ChaincodeResponse> };
const { JSONSerializer } = shim;
const Long = shim.Long as { fromNumber(n: number, unsigned?: boolean): unknown };

interface Version {
  value: Buffer;
  txId: string;
  timestamp: { seconds: number; nanos: number };
}

const compareKeys = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

function validateSimpleKey(key: string): void {
  if (key.startsWith('\x00'))
    throw new Error(`first character of the key [${key}] contains a null character which is not allowed`);
}

function iterator<T>(items: T[]): Iterators.CommonIterator<T> & { closed: boolean } {
  let i = 0;
  const it = {
    closed: false,
    async next() {
      return i < items.length
        ? { value: items[i++]!, done: false }
        : ({ done: true } as Iterators.NextResult<T>);
    },
    async close() {
      it.closed = true;
    },
  };
  return it;
}

class Tx {
  readonly writes = new Map<string, Buffer | null>();
  event: ContractEvent | undefined;
  readonly iterators: Array<{ closed: boolean }> = [];
  constructor(
    readonly ledger: MemoryLedger,
    readonly txId: string,
    readonly args: string[],
    readonly creator: { mspid: string; idBytes: Buffer },
    readonly timestamp: { seconds: number; nanos: number },
    readonly readOnly: boolean,
  ) {}

  stub(): unknown {
    const tx = this;
    const state = this.ledger.state;
    const rangeItems = (start: string, end: string) => {
      validateSimpleKey(start);
      validateSimpleKey(end);
      return [...state.keys()]
        .filter(
          (k) =>
            !k.startsWith('\x00') && compareKeys(k, start) >= 0 && (end === '' || compareKeys(k, end) < 0),
        )
        .sort(compareKeys);
    };
    const track = <T>(it: Iterators.CommonIterator<T> & { closed: boolean }) => {
      tx.iterators.push(it);
      return it;
    };
    return {
      getBufferArgs: () => tx.args.map((a) => Buffer.from(a)),
      getArgs: () => tx.args,
      getStringArgs: () => tx.args,
      getFunctionAndParameters: () => ({ fcn: tx.args[0], params: tx.args.slice(1) }),
      getTxID: () => tx.txId,
      getChannelID: () => 'torgo',
      getCreator: () => tx.creator,
      getMspID: () => 'PeerMSP',
      getTxTimestamp: () => ({
        seconds: Long.fromNumber(tx.timestamp.seconds, true),
        nanos: tx.timestamp.nanos,
      }),
      getDateTimestamp: () => new Date(tx.timestamp.seconds * 1000 + Math.floor(tx.timestamp.nanos / 1e6)),
      async getState(key: string) {
        return state.get(key)?.value ?? Buffer.alloc(0);
      },
      async putState(key: string, value: Uint8Array) {
        if (!key) throw new Error('key must not be empty');
        tx.writes.set(key, Buffer.from(value));
      },
      async deleteState(key: string) {
        tx.writes.set(key, null);
      },
      async getStateByRange(start: string, end: string) {
        return track(
          iterator(
            rangeItems(start, end).map((k) => ({ namespace: 'torgo', key: k, value: state.get(k)!.value })),
          ),
        );
      },
      async getStateByRangeWithPagination(start: string, end: string, pageSize: number, bookmark = '') {
        if (!tx.readOnly)
          throw new Error(`Tx with ID ${tx.txId}: paginated queries are not allowed in update transactions`);
        const keys = rangeItems(bookmark || start, end);
        const page = keys.slice(0, pageSize);
        return {
          iterator: track(
            iterator(page.map((k) => ({ namespace: 'torgo', key: k, value: state.get(k)!.value }))),
          ),
          metadata: { fetchedRecordsCount: page.length, bookmark: keys[pageSize] ?? '' },
        };
      },
      async getHistoryForKey(key: string) {
        const versions = [...(tx.ledger.history.get(key) ?? [])].reverse();
        return track(
          iterator(
            versions.map((v) => ({
              txId: v.txId,
              value: v.value,
              isDelete: v.value.length === 0,
              timestamp: { seconds: v.timestamp.seconds, nanos: v.timestamp.nanos },
            })),
          ),
        );
      },
      async getQueryResult() {
        throw new Error('ExecuteQuery not supported for leveldb');
      },
      setEvent(name: string, payload: Uint8Array) {
        tx.event = { name, payload: Buffer.from(payload) };
      },
    };
  }
}

/** An X.509 identity made with openssl: self-signed is enough, the shim only parses it. */
function makeCertificate(dir: string, name: string, attrs: Record<string, string>): Buffer {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.pem`);
  const ext = Buffer.from(JSON.stringify({ attrs })).toString('hex');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '30',
      '-subj',
      `/OU=client/CN=${name}`,
      '-addext',
      `1.2.3.4.5.6.7.8.1=DER:${ext}`,
    ],
    { stdio: 'ignore' },
  );
  return readFileSync(certFile);
}

export class MemoryLedger implements TestLedger {
  readonly state = new Map<string, Version>();
  readonly history = new Map<string, Version[]>();
  private readonly chaincode;
  private readonly certDir = mkdtempSync(path.join(os.tmpdir(), 'torgo-cc-test-'));
  private txCount = 0;
  /** Seconds of the next transaction's timestamp; each transaction advances it by one. */
  clock = 1_795_000_000;
  /** Every iterator a transaction opened, to check the contract closed them. */
  readonly iterators: Array<{ closed: boolean }> = [];

  constructor(contracts: unknown[]) {
    // As fabric-shim's bootstrap builds it from the package's `serializers` export (chaincode/index.ts).
    const packaged = {
      transaction: serializers.transaction,
      serializers: { ...serializers.serializers, jsonSerializer: JSONSerializer },
    };
    this.chaincode = new ChaincodeFromContract([...contracts], packaged, {}, 'torgo', '0.0.0');
  }

  async identity(name: string, mspId: string, role?: string): Promise<LedgerActor> {
    const cert = makeCertificate(this.certDir, name, role === undefined ? {} : { 'torgo.role': role });
    return { name, mspId, creator: { mspid: mspId, idBytes: cert }, certificate: cert };
  }

  private async run(actor: LedgerActor, readOnly: boolean, fcn: string, args: string[]) {
    const n = ++this.txCount;
    const txId = n.toString(16).padStart(64, '0');
    const timestamp = { seconds: this.clock++, nanos: n * 1000 };
    const tx = new Tx(this, txId, [fcn, ...args], actor.creator as Tx['creator'], timestamp, readOnly);
    const response = await this.chaincode.Invoke(tx.stub());
    this.iterators.push(...tx.iterators);
    if (response.status !== 200) throw new Error(response.message ?? 'transaction failed');
    return { tx, txId, timestamp, result: Buffer.from(response.payload ?? []).toString('utf8') };
  }

  async submit(actor: LedgerActor, fcn: string, ...args: string[]) {
    const { tx, result } = await this.run(actor, false, fcn, args);
    for (const [key, value] of tx.writes) {
      const version = { value: value ?? Buffer.alloc(0), txId: tx.txId, timestamp: tx.timestamp };
      if (value) this.state.set(key, version);
      else this.state.delete(key);
      this.history.set(key, [...(this.history.get(key) ?? []), version]);
    }
    return { result, event: tx.event, writes: [...tx.writes.keys()] };
  }

  async evaluate(actor: LedgerActor, fcn: string, ...args: string[]): Promise<string> {
    return (await this.run(actor, true, fcn, args)).result;
  }

  async close(): Promise<void> {
    rmSync(this.certDir, { recursive: true, force: true });
  }
}
