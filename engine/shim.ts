/**
 * What the engine borrows from fabric-shim 2.5.8, unmodified: the contract dispatcher a Fabric peer's
 * chaincode process runs (`ChaincodeFromContract`, reached through `contract-spi` like the shim's own
 * bootstrap), the `ClientIdentity` parser, the JSON serializer, the logger and the `Long` class the stub
 * returns timestamps in. They are reached in chaincode/fabric-internals.ts (the one module that touches
 * Fabric's internals, with a test that fails when they change); this file gives them their types.
 */
import type { Contract } from 'fabric-contract-api';
import type { ChaincodeResponse, ChaincodeStub, ClientIdentity } from 'fabric-shim-api';
import type Long from 'long';
import { shimInternals, trimDispatchCosts } from '../chaincode/fabric-internals.js';
import { ByteParts } from '../chaincode/bytes.js';
import { serializers, TransactionSerializer } from '../chaincode/serializer.js';

export { type ChaincodeLogLevel, setChaincodeLogLevel } from '../chaincode/fabric-internals.js';

/** A contract class as fabric-contract-api expects it: constructible without arguments. */
export type ContractClass = new () => Contract;

/** The peer-facing side of a chaincode: what `Invoke` needs is our stub plus `getBufferArgs()`. */
export interface Chaincode {
  Init(stub: DispatchStub): Promise<ChaincodeResponse>;
  Invoke(stub: DispatchStub): Promise<ChaincodeResponse>;
}

/** fabric-shim's real stub has `getBufferArgs()`, which the dispatcher reads; the typed interface lacks it. */
export interface DispatchStub extends ChaincodeStub {
  getBufferArgs(): Buffer[];
}

interface Serializers {
  transaction: string;
  serializers: Record<string, unknown>;
}

type ChaincodeFromContractCtor = new (
  contracts: ContractClass[],
  serializers: Serializers,
  metadata?: object,
  title?: string,
  version?: string,
) => Chaincode;

type ClientIdentityCtor = new (
  stub: Pick<ChaincodeStub, 'getChannelID' | 'getTxID' | 'getCreator'>,
) => ClientIdentity;

const internals = shimInternals();
const ChaincodeFromContract = internals.ChaincodeFromContract as ChaincodeFromContractCtor;

export const ShimClientIdentity = internals.ClientIdentity as ClientIdentityCtor;
export const LongCtor = internals.Long as typeof Long;

/** What fabric-shim's ClientIdentity makes of a creator (MSP id + PEM certificate bytes), as on a peer. */
export function clientIdentityOf(mspid: string, idBytes: Uint8Array): ClientIdentity {
  return new ShimClientIdentity({
    getChannelID: () => '',
    getTxID: () => '',
    getCreator: () => ({ mspid, idBytes }),
  });
}

/**
 * The contract's transaction serializer as the embedded dispatcher runs it: an answer in parts
 * (chaincode/bytes.ts, a page of receipts) stays in parts instead of becoming one fresh ~270 KB buffer
 * per page (docs/performance.md §11, "Queries, eighth pass"). The engine is the only reader of an
 * embedded response and takes them (ledger.ts `answerOf`); the dispatcher passes the serializer's
 * result to `shim.success` untouched (chaincode/fabric-invoke.ts), hence the one cast. Everything
 * else is the contract's serializer.
 */
class PartsSerializer extends TransactionSerializer {
  override toBuffer(result: unknown, schema: unknown, loggerPrefix?: string): Buffer {
    if (result instanceof ByteParts) return result as unknown as Buffer;
    return super.toBuffer(result, schema, loggerPrefix);
  }
}

/**
 * Build the chaincode exactly as `fabric-shim/lib/contract-spi/bootstrap.js` does for the chaincode
 * package, whose main module exports its `serializers` (chaincode/serializer.ts; the bootstrap adds the
 * default `jsonSerializer` beside them), metadata introspected from
 * the decorators, title and version standing in for package.json's name and version — but with the
 * transaction serializer that keeps an answer in parts (`PartsSerializer`). The first call
 * applies the dispatcher's cost trims (chaincode/fabric-internals.ts), the engine's own use of them.
 */
export function chaincodeFromContracts(
  contracts: readonly ContractClass[],
  title: string,
  version: string,
): Chaincode {
  const packaged: Serializers = {
    transaction: serializers.transaction,
    serializers: {
      ...serializers.serializers,
      [serializers.transaction]: PartsSerializer,
      jsonSerializer: internals.JSONSerializer,
    },
  };
  trimDispatchCosts();
  // The dispatcher appends its system contract to the array it is given: hand it a copy.
  return new ChaincodeFromContract([...contracts], packaged, {}, title, version);
}
