/**
 * The contract tests' ledger on the embedded engine (engine/): real LevelDB, real blocks, the
 * engine's own X.509 CA issuing identities with `torgo.role`, fabric-shim's dispatcher.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type ContractClass, EmbeddedLedger, type Identity, isEngineError } from '../../engine/index.js';
import type { LedgerActor, SubmitOutcome, TestLedger } from './ledger.js';

export class EngineLedger implements TestLedger {
  private constructor(
    private readonly ledger: EmbeddedLedger,
    private readonly dir: string,
  ) {}

  static async open(contracts: readonly ContractClass[]): Promise<EngineLedger> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'torgo-cc-engine-'));
    const ledger = await EmbeddedLedger.open({ dir, contracts, chaincodeLogLevel: 'CRITICAL' });
    return new EngineLedger(ledger, dir);
  }

  async identity(name: string, mspId: string, role?: string): Promise<LedgerActor> {
    const identity = await this.ledger.createIdentity({
      mspId,
      name,
      ...(role === undefined ? {} : { attrs: { 'torgo.role': role } }),
    });
    return { name, mspId, creator: identity, certificate: Buffer.from(identity.certificate) };
  }

  async submit(actor: LedgerActor, fcn: string, ...args: string[]): Promise<SubmitOutcome> {
    const r = await contractMessage(this.ledger.submit(actor.creator as Identity, fcn, args));
    const block = await this.ledger.getBlock(r.blockNumber);
    const writes = block.transactions[r.txNumber]!.writeSet.map((w) => w.key);
    return { result: r.result, event: r.event, writes };
  }

  async evaluate(actor: LedgerActor, fcn: string, ...args: string[]): Promise<string> {
    return (await contractMessage(this.ledger.evaluate(actor.creator as Identity, fcn, args))).result;
  }

  async close(): Promise<void> {
    await this.ledger.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** An endorsement failure carries the contract's message byte for byte: surface exactly that. */
async function contractMessage<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (isEngineError(e) && e.code === 'E_ENDORSE') throw new Error(e.message);
    throw e;
  }
}
