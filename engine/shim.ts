/**
 * What the engine borrows from fabric-shim 2.5.8, unmodified: the contract dispatcher a Fabric peer's
 * chaincode process runs (`ChaincodeFromContract`, reached through `contract-spi` like the shim's own
 * bootstrap), the `ClientIdentity` parser, the JSON serializer, the logger and the `Long` class the stub
 * returns timestamps in. These are CommonJS internals without type declarations, so this file is the one
 * place that types them; fabric-shim is pinned, and the engine tests exercise every one of them.
 */
import { createRequire } from 'node:module';
import type { Contract } from 'fabric-contract-api';
import type { ChaincodeResponse, ChaincodeStub, ClientIdentity } from 'fabric-shim-api';
import type Long from 'long';
import { trimDispatchCosts } from '../chaincode/dispatch-costs.js';

const require = createRequire(import.meta.url);
/** Resolve from fabric-shim's own location so we get exactly the copies it uses. */
const requireFromShim = createRequire(require.resolve('fabric-shim'));

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

const ChaincodeFromContract =
  require('fabric-shim/lib/contract-spi/chaincodefromcontract.js') as ChaincodeFromContractCtor;
const { JSONSerializer } = require('fabric-contract-api') as { JSONSerializer: unknown };
const shim = require('fabric-shim') as { ClientIdentity: ClientIdentityCtor };
type LoggerModule = { setLevel(level: string): void };
const shimLogger = require('fabric-shim/lib/logger.js') as LoggerModule;
const contractLogger = requireFromShim('fabric-contract-api/lib/logger.js') as LoggerModule;

export const ShimClientIdentity: ClientIdentityCtor = shim.ClientIdentity;
export const LongCtor = requireFromShim('long') as typeof Long;

/**
 * Build the chaincode exactly as `fabric-shim/lib/contract-spi/bootstrap.js` does for a package whose
 * main module exports no custom serializers: the default `jsonSerializer`, metadata introspected from
 * the decorators, title and version standing in for package.json's name and version.
 */
export function chaincodeFromContracts(
  contracts: readonly ContractClass[],
  title: string,
  version: string,
): Chaincode {
  const serializers: Serializers = {
    transaction: 'jsonSerializer',
    serializers: { jsonSerializer: JSONSerializer },
  };
  trimDispatchCosts();
  // The dispatcher appends its system contract to the array it is given: hand it a copy.
  return new ChaincodeFromContract([...contracts], serializers, {}, title, version);
}

/** Fabric's chaincode log levels, as a peer passes them in CORE_CHAINCODE_LOGGING_LEVEL. */
export type ChaincodeLogLevel = 'CRITICAL' | 'ERROR' | 'WARNING' | 'INFO' | 'DEBUG';

/**
 * Set the log level of fabric-shim and fabric-contract-api (both log every failed transaction at error
 * level). Process-wide, like the CORE_CHAINCODE_LOGGING_LEVEL a peer gives its chaincode process — and
 * that variable is left holding `level`: both libraries' `setLevel` store their own (winston) name there,
 * which loggers created afterwards would misread as INFO.
 */
export function setChaincodeLogLevel(level: ChaincodeLogLevel): void {
  shimLogger.setLevel(level);
  contractLogger.setLevel(level);
  process.env['CORE_CHAINCODE_LOGGING_LEVEL'] = level;
}
