/**
 * LedgerReader: evaluations on a ledger that an EmbeddedLedger on another thread of this process has
 * open. The database is the same LevelDB instance (state.ts `openDb` shares it between threads), so
 * a reader sees every committed block as soon as the writer's thread does; it runs the same contract
 * through the same endorsement (endorse.ts) and answers exactly what `EmbeddedLedger.evaluate` would,
 * but with this thread's CPU and heap: a long read (a bundle export's pages, gateway/logbuilder/
 * export-thread.ts) no longer runs between the writer's commits.
 *
 * It never writes: it has no committer, and it refuses a directory that holds no ledger. Its reads
 * leave LevelDB's block cache to the writer (`fillCache: false`): a reader walks much of the ledger once.
 */
import path from 'node:path';
import { Evaluated, type EvaluateResult, endorse, type Endorser, Nonces, peerSettings } from './endorse.js';
import { EngineError } from './errors.js';
import { EmbeddedCA, type Identity } from './identity.js';
import {
  type ChaincodeLogLevel,
  type ContractClass,
  chaincodeFromContracts,
  setChaincodeLogLevel,
} from './shim.js';
import { type Db, openDb, StateView } from './state.js';
import { checkStorageFormat } from './storage.js';

export interface ReaderOptions {
  /** The ledger's data directory, as the writer was given it (`LedgerOptions.dir`). */
  readonly dir: string;
  /** The writer's contract classes. */
  readonly contracts: readonly ContractClass[];
  /** As the writer's: channel, chaincode name and version, peer MSP, query limit (same defaults). */
  readonly channel?: string;
  readonly chaincodeName?: string;
  readonly chaincodeVersion?: string;
  readonly peerMspId?: string;
  readonly totalQueryLimit?: number;
  readonly chaincodeLogLevel?: ChaincodeLogLevel;
}

export class LedgerReader {
  private closed = false;
  private active = new Set<Promise<unknown>>();

  private constructor(
    private readonly db: Db,
    private readonly endorser: Endorser,
  ) {}

  static async open(options: ReaderOptions): Promise<LedgerReader> {
    if (options.chaincodeLogLevel) setChaincodeLogLevel(options.chaincodeLogLevel);
    const { chaincodeVersion, ...settings } = peerSettings(options);
    const chaincode = chaincodeFromContracts(options.contracts, settings.chaincodeName, chaincodeVersion);
    const dir = path.resolve(options.dir);
    const location = path.join(dir, 'ledger');
    const db = await openDb(location, { createIfMissing: false, shared: true });
    try {
      await checkStorageFormat(db, location, false);
    } catch (e) {
      await db.close();
      throw e;
    }
    return new LedgerReader(db, {
      identities: new EmbeddedCA(path.join(dir, 'msp')),
      nonces: new Nonces(),
      chaincode,
      settings,
    });
  }

  /** Run `fcn(args)` as `identity` on the state committed now, through a snapshot of its own. */
  evaluate(identity: Identity, fcn: string, args: readonly string[] = []): Promise<EvaluateResult> {
    if (this.closed) return Promise.reject(new EngineError('E_CLOSED', 'the ledger reader is closed'));
    const evaluation = (async () => {
      const snapshot = this.db.snapshot();
      try {
        const { tx, answer } = await endorse(
          this.endorser,
          new StateView(this.db, snapshot, false),
          identity,
          fcn,
          args,
          {},
        );
        return new Evaluated(tx.txId, answer);
      } finally {
        await snapshot.close();
      }
    })();
    this.active.add(evaluation);
    const settle = () => this.active.delete(evaluation);
    evaluation.then(settle, settle);
    return evaluation;
  }

  /** Waits for evaluations in flight, then lets go of the database (the writer's thread keeps it open). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.active]);
    await this.db.close();
  }
}
