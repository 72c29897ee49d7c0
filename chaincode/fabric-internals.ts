/**
 * Every reach into the Fabric packages' internals, in one place. The packages are pinned exactly in
 * package.json (fabric-shim, fabric-contract-api, fabric-shim-api 2.5.8; fabric-common 2.2.20), and
 * test/chaincode/fabric-internals.test.ts fails the day one of these paths or shapes changes.
 *
 * What is reached, and why it is not public API:
 * - `fabric-shim/lib/contract-spi/chaincodefromcontract.js`: the contract dispatcher a peer's chaincode
 *   process runs; the embedded engine runs the same one (fabric-shim's own bootstrap reaches it the same way).
 * - `fabric-shim/lib/logger.js`, `fabric-contract-api/lib/logger.js`: their `setLevel`, the only way to
 *   change the level of loggers already created (a peer sets CORE_CHAINCODE_LOGGING_LEVEL before start).
 * - `long`, `@fidm/x509`, `winston` as fabric-shim resolves them: the exact copies it uses.
 * - fabric-common's `global.hfc.logger` (its `Utils.setLogger` mechanism), read at import time.
 * - fabric-network 2.2's `FabricError`, `TransactionError`, `newFullBlockEvent` and `SingleQueryHandler`,
 *   in its typings but not among its runtime exports: the gateway's Fabric 2.2 driver needs them.
 *
 * Patches, and how far they reach (docs/performance.md measures what they save):
 * - `Certificate.fromPEM` of the @fidm/x509 copy fabric-shim resolves is memoised by PEM text. Only
 *   fabric-shim depends on that package (the test checks the lockfile), so in effect it is scoped to
 *   fabric-shim's ClientIdentity; it cannot be narrower because chaincode.js destructures the class at
 *   load and calls its static method.
 * - `DataMarshall.prototype.handleParameters` (fabric-shim's, the one class of that module) takes a short
 *   cut for transaction functions whose every parameter is a plain string, and only while its logger
 *   writes no debug lines: what it returns is what the full path returns (trimDispatchCosts says why).
 * - `Logger.prototype.write` of the winston 3 copy fabric-shim resolves drops a message before formatting
 *   when no transport would write it. Only fabric-shim and fabric-contract-api use that copy (the test
 *   checks the lockfile; fabric-common has its own winston 2). It cannot be put on their logger instances:
 *   those are created at module load inside the libraries and kept in private maps.
 * - `ChaincodeFromContract.prototype.invokeFunctionality` is replaced by chaincode/fabric-invoke.ts's
 *   port, which differs only in building debug lines when debug is on. The prototype is the only place:
 *   the shim's bootstrap and the engine construct the class themselves.
 * - The fabric-common logger is process-wide by fabric-common's design (a global it reads).
 * The shim patches are applied only where the contract runs — by the embedded engine when it builds its
 * dispatcher, and by the chaincode's own entry point on a peer — never by merely importing the contract.
 */
import { createRequire } from 'node:module';
import { invokeFunctionalityFor } from './fabric-invoke.js';
// Types only (erased): the chaincode bundle never loads fabric-network; networkInternals() requires lazily.
import type { FabricError } from 'fabric-network/lib/errors/fabricerror.js';
import type { TransactionError } from 'fabric-network/lib/errors/transactionerror.js';
import type { newFullBlockEvent } from 'fabric-network/lib/impl/event/fullblockeventfactory.js';
import type { SingleQueryHandler } from 'fabric-network/lib/impl/query/singlequeryhandler.js';

/** The pinned versions the paths and shapes below were read from (checked by the test). */
export const FABRIC_PINS = {
  'fabric-shim': '2.5.8',
  'fabric-contract-api': '2.5.8',
  'fabric-shim-api': '2.5.8',
  '@fidm/x509': '1.2.1',
  winston: '3.19.0',
  'fabric-common': '2.2.20',
  'fabric-network': '2.2.20',
} as const;

/** The internal module paths reached, relative to the package that owns them. */
export const SHIM_INTERNAL_PATHS = {
  dispatcher: 'fabric-shim/lib/contract-spi/chaincodefromcontract.js',
  shimLogger: 'fabric-shim/lib/logger.js',
  contractLogger: 'fabric-contract-api/lib/logger.js',
  /** fabric-shim's own stub: the engine's stub is tested against its pure methods. */
  stub: 'fabric-shim/lib/stub.js',
  /** The dispatcher's parameter marshalling (`handleParameters`, trimmed below). */
  dataMarshall: 'fabric-shim/lib/contract-spi/datamarshall.js',
} as const;

/** fabric-network's modules the gateway's Fabric 2.2 driver reaches. */
export const NETWORK_INTERNAL_PATHS = {
  FabricError: 'fabric-network/lib/errors/fabricerror.js',
  TransactionError: 'fabric-network/lib/errors/transactionerror.js',
  newFullBlockEvent: 'fabric-network/lib/impl/event/fullblockeventfactory.js',
  SingleQueryHandler: 'fabric-network/lib/impl/query/singlequeryhandler.js',
} as const;

export interface LoggerModule {
  setLevel(level: string): void;
  getLogger(name?: string): unknown;
}
export interface X509Module {
  Certificate: { fromPEM(pem: string | Buffer): unknown };
}
export interface WinstonLogger {
  write(info: unknown, ...rest: unknown[]): boolean;
  isLevelEnabled(level: string): boolean;
}
export interface WinstonModule {
  Logger: { prototype: WinstonLogger };
}
/** A transaction function's metadata as the dispatcher hands it to `handleParameters`. */
export interface TxFunctionMetadata {
  parameters?: readonly { schema?: Record<string, unknown> }[];
}
export interface DataMarshallModule {
  prototype: {
    handleParameters(fn: TxFunctionMetadata, parameters: readonly Buffer[], loggerPrefix: string): unknown[];
  };
}

/** The values reached, untyped here; engine/shim.ts gives them their types. */
export interface ShimInternals {
  ChaincodeFromContract: unknown;
  ChaincodeStub: unknown;
  DataMarshall: DataMarshallModule;
  JSONSerializer: unknown;
  ClientIdentity: unknown;
  Long: unknown;
  shimLogger: LoggerModule;
  contractLogger: LoggerModule;
  x509: X509Module;
  winston: WinstonModule;
}

/** `require` from this file: the chaincode bundle is CommonJS, tsc's output ES modules. */
function ownRequire(): NodeJS.Require {
  return typeof require === 'function' ? require : createRequire(import.meta.url);
}

/** `require` as fabric-shim itself resolves, so we get exactly the copies it uses. */
export function shimRequire(): NodeJS.Require {
  return createRequire(ownRequire().resolve('fabric-shim'));
}

let loaded: ShimInternals | undefined;

/** Loads (once) what the engine and the patches use from fabric-shim and fabric-contract-api. */
export function shimInternals(): ShimInternals {
  if (loaded) return loaded;
  const own = ownRequire();
  const fromShim = shimRequire();
  loaded = {
    ChaincodeFromContract: own(SHIM_INTERNAL_PATHS.dispatcher),
    ChaincodeStub: own(SHIM_INTERNAL_PATHS.stub),
    DataMarshall: own(SHIM_INTERNAL_PATHS.dataMarshall) as DataMarshallModule,
    JSONSerializer: (own('fabric-contract-api') as { JSONSerializer: unknown }).JSONSerializer,
    ClientIdentity: (own('fabric-shim') as { ClientIdentity: unknown }).ClientIdentity,
    Long: fromShim('long'),
    shimLogger: own(SHIM_INTERNAL_PATHS.shimLogger) as LoggerModule,
    contractLogger: fromShim(SHIM_INTERNAL_PATHS.contractLogger) as LoggerModule,
    x509: fromShim('@fidm/x509') as X509Module,
    winston: fromShim('winston') as WinstonModule,
  };
  return loaded;
}

/** Fabric's chaincode log levels, as a peer passes them in CORE_CHAINCODE_LOGGING_LEVEL. */
export type ChaincodeLogLevel = 'CRITICAL' | 'ERROR' | 'WARNING' | 'INFO' | 'DEBUG';

/**
 * Set the log level of fabric-shim and fabric-contract-api, loggers already created included.
 * Process-wide, like the CORE_CHAINCODE_LOGGING_LEVEL a peer gives its chaincode process — and that
 * variable is left holding `level`, read by loggers created afterwards: both libraries' `setLevel` store
 * their own (winston) name there, which those loggers would misread as INFO. CRITICAL writes nothing
 * (winston has no `fatal` level, so no transport accepts anything).
 */
export function setChaincodeLogLevel(level: ChaincodeLogLevel): void {
  const { shimLogger, contractLogger } = shimInternals();
  shimLogger.setLevel(level);
  contractLogger.setLevel(level);
  process.env['CORE_CHAINCODE_LOGGING_LEVEL'] = level;
}

const CERTIFICATE_MEMO_LIMIT = 1024;
let trimmed = false;
let originalInvoke: unknown;

/** The dispatcher's own `invokeFunctionality`, as installed (before trimDispatchCosts replaces it). */
export function originalInvokeFunctionality(): unknown {
  return originalInvoke ?? dispatcherPrototype().invokeFunctionality;
}

function dispatcherPrototype(): { invokeFunctionality: unknown } {
  return (shimInternals().ChaincodeFromContract as { prototype: { invokeFunctionality: unknown } }).prototype;
}

/** Whether trimDispatchCosts() has patched this process (the test reads it). */
export function dispatchCostsTrimmed(): boolean {
  return trimmed;
}

/**
 * Three per-transaction costs of fabric-shim 2.5.8's dispatcher that buy nothing in one long-lived
 * process, removed without changing what the dispatcher does or what anyone sees:
 * 1. Every invoke builds a ClientIdentity, which parses the creator's certificate with @fidm/x509 —
 *    the same few certificates over and over. The parse is memoised by the exact PEM text; the parsed
 *    Certificate is only read (subject, issuer, extensions), so sharing it changes nothing.
 * 2. winston runs every message through its formatters (timestamp, metadata, colours, printf) before
 *    its transports drop those below the level, and the shim logs debug messages for every message to
 *    and from the peer. A message is now dropped before formatting when `isLevelEnabled` — the same
 *    level test the transports apply — says no transport would write it.
 * 3. `handleParameters` runs every parameter through JSON.stringify (for validation, and again for a
 *    debug line that is then dropped), `util.inspect` (another debug line) and an ajv compile of a
 *    schema built afresh per call: for a 250 KB batch argument that is milliseconds per transaction.
 *    When every declared parameter's schema is exactly `{type: 'string'}`, the counts match and the
 *    module's logger writes no debug lines, it now returns each buffer decoded as UTF-8 — exactly the
 *    full path's result: the JSON serializer's `fromBuffer` yields `data.toString('utf8')` for a string
 *    schema, and that string's JSON validates against `{type: 'string'}` whatever it holds. Every
 *    other case (a count mismatch and its error, another schema, debug logging on) takes the full path.
 *    A buffer made by `utf8WithText` (the embedded engine's arguments) answers its text instead of
 *    being decoded: the same string (below), without decoding a batch's 250 KB the engine just encoded.
 * 4. The dispatcher builds its debug lines before calling the logger, one of them the JSON of the
 *    transaction's whole result (a page of receipts: ~290 KB escaped again, ~3–4 ms). Its
 *    `invokeFunctionality` is replaced by the same method building them only when debug is on
 *    (chaincode/fabric-invoke.ts, held to the original by test/engine/fast-paths.test.ts).
 * Idempotent; see the file comment for how far each patch reaches.
 */
const UTF8_TEXT = Symbol('utf8Text');
type TextBuffer = Buffer & { readonly [UTF8_TEXT]?: string };

/**
 * `Buffer.from(text, 'utf8')`, carrying `text` when `text` is well formed (no lone surrogate): then, and
 * only then, decoding the buffer gives `text` back, so the trimmed `handleParameters` answers it as the
 * decode. The buffer must not be written to (the engine's arguments never are before the dispatch).
 */
export function utf8WithText(text: string): Buffer {
  const buffer = Buffer.from(text, 'utf8');
  if (text.isWellFormed()) Object.defineProperty(buffer, UTF8_TEXT, { value: text });
  return buffer;
}

export function trimDispatchCosts(): void {
  if (trimmed) return;
  trimmed = true;
  const { x509, winston, DataMarshall, shimLogger } = shimInternals();

  const { Certificate } = x509;
  const parse = Certificate.fromPEM.bind(Certificate);
  const parsed = new Map<string, unknown>();
  Certificate.fromPEM = (pem) => {
    const key = typeof pem === 'string' ? pem : pem.toString('latin1');
    let certificate = parsed.get(key);
    if (certificate === undefined) {
      certificate = parse(pem);
      if (parsed.size >= CERTIFICATE_MEMO_LIMIT) parsed.clear();
      parsed.set(key, certificate);
    }
    return certificate;
  };

  const LEVEL = Symbol.for('level'); // triple-beam's LEVEL, which winston and its transports read
  const proto = winston.Logger.prototype;
  const write = proto.write;
  proto.write = function (this: WinstonLogger, info: unknown, ...rest: unknown[]): boolean {
    const level = (info as Record<symbol, unknown> | null)?.[LEVEL];
    if (typeof level === 'string' && !this.isLevelEnabled(level)) return true;
    return write.call(this, info, ...rest);
  };

  // The module's own logger: getLogger returns the instance it keeps by name (and sets its level from
  // the environment, as it does for every call).
  const marshallLogger = shimLogger.getLogger('contracts-spi/datamarshall.js') as WinstonLogger;
  const marshall = DataMarshall.prototype;
  const fullHandleParameters = marshall.handleParameters;
  // Named as the original, so profiles (bench/profile.ts) attribute it the same.
  marshall.handleParameters = function handleParameters(this: unknown, fn, parameters, loggerPrefix) {
    const expected = fn.parameters;
    if (
      expected &&
      expected.length === parameters.length &&
      expected.every(isPlainStringParameter) &&
      !marshallLogger.isLevelEnabled('debug')
    ) {
      return parameters.map((p) => (p as TextBuffer)[UTF8_TEXT] ?? p.toString('utf8'));
    }
    return fullHandleParameters.call(this, fn, parameters, loggerPrefix);
  };

  const dispatcher = dispatcherPrototype();
  originalInvoke = dispatcher.invokeFunctionality;
  dispatcher.invokeFunctionality = invokeFunctionalityFor(
    ownRequire().resolve(SHIM_INTERNAL_PATHS.dispatcher),
  );
}

/** A parameter whose schema is exactly `{type: 'string'}`: any string validates against it. */
function isPlainStringParameter(p: { schema?: Record<string, unknown> }): boolean {
  const schema = p.schema;
  return schema?.['type'] === 'string' && Object.keys(schema).length === 1;
}

export interface NetworkInternals {
  FabricError: typeof FabricError;
  TransactionError: typeof TransactionError;
  newFullBlockEvent: typeof newFullBlockEvent;
  SingleQueryHandler: typeof SingleQueryHandler;
}

let network: NetworkInternals | undefined;

/** fabric-network's error classes, block-event factory and query handler (loaded once, on first use). */
export function networkInternals(): NetworkInternals {
  if (network) return network;
  const own = ownRequire();
  const load = <K extends keyof NetworkInternals>(name: K): NetworkInternals[K] =>
    (own(NETWORK_INTERNAL_PATHS[name]) as Record<K, NetworkInternals[K]>)[name];
  network = {
    FabricError: load('FabricError'),
    TransactionError: load('TransactionError'),
    newFullBlockEvent: load('newFullBlockEvent'),
    SingleQueryHandler: load('SingleQueryHandler'),
  };
  return network;
}

type Log = (...args: unknown[]) => void;
/** fabric-common's logger slot: `global.hfc.logger`, read when it creates a module logger. */
export type FabricSdkLoggerHolder = {
  hfc?: { logger?: Record<'debug' | 'info' | 'warn' | 'error', Log> };
};

/**
 * Quiet the Fabric 2.2 SDK (fabric-common, used by fabric-network and fabric-ca-client): by default it
 * prints winston lines to the console — endorsement failures with the peers' full answers among them —
 * beside the gateway's structured logs. Every failure it logs is also thrown to the gateway, which maps
 * and logs it itself. fabric-common takes its logger from `global.hfc.logger` when it creates its module
 * loggers, at import time, so this must run before any of those packages is imported (and it cannot be
 * scoped: the slot is a global of fabric-common's design). A logger set earlier is left alone.
 */
export function quietFabricSdk(): void {
  const quiet: Log = () => {};
  const holder = globalThis as FabricSdkLoggerHolder;
  holder.hfc ??= {};
  holder.hfc.logger ??= { debug: quiet, info: quiet, warn: quiet, error: quiet };
}
