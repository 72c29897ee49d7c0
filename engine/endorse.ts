/**
 * One endorsement: the contract run through fabric-shim's own dispatcher as `identity`, against a
 * view of committed state, its writes recorded in a simulation and nothing else touched. The ledger
 * endorses every submit and evaluate so (ledger.ts); a reader on another thread of the process
 * evaluates so over the same database (reader.ts).
 */
import { randomBytes } from 'node:crypto';
import { ByteParts } from '../chaincode/bytes.js';
import { utf8WithText } from '../chaincode/fabric-internals.js';
import { argsHashOf } from './argshash.js';
import { sha256Hex } from './canonical.js';
import type { EndorsedTx } from './committer.js';
import { EngineError } from './errors.js';
import type { EmbeddedCA, Identity } from './identity.js';
import type { Chaincode } from './shim.js';
import { TxSimulation } from './simulation.js';
import type { StateView } from './state.js';
import { EmbeddedStub } from './stub.js';

export interface SubmitOptions {
  /** Fabric's transient map: passed to the contract, never recorded. */
  transient?: Readonly<Record<string, Uint8Array>>;
}

/** The peer's settings as given (LedgerOptions, ReaderOptions); unset ones take the peer's defaults. */
export interface PeerOptions {
  readonly channel?: string | undefined;
  readonly chaincodeName?: string | undefined;
  readonly chaincodeVersion?: string | undefined;
  readonly peerMspId?: string | undefined;
  readonly totalQueryLimit?: number | undefined;
}

/**
 * The peer's settings with their defaults, for the ledger's writer and its readers alike: a reader that
 * defaulted differently would answer differently from the writer.
 */
export function peerSettings(o: PeerOptions) {
  return {
    channel: o.channel ?? 'torgo',
    chaincodeName: o.chaincodeName ?? 'torgo',
    chaincodeVersion: o.chaincodeVersion ?? '0.0.0',
    peerMspId: o.peerMspId ?? 'EmbeddedPeerMSP',
    totalQueryLimit: o.totalQueryLimit ?? 100000,
  };
}

/** What an endorsement runs with: who may call, the contract, and the peer's settings. */
export interface Endorser {
  readonly identities: EmbeddedCA;
  readonly nonces: Nonces;
  readonly chaincode: Chaincode;
  readonly settings: {
    readonly channel: string;
    readonly chaincodeName: string;
    readonly peerMspId: string;
    readonly totalQueryLimit: number;
  };
}

/** `bytes` decoded as UTF-8, read in place (`Buffer.from(bytes)` would copy a ~280 KB page first). */
export function utf8Text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/**
 * A chaincode response's payload: bytes, or the parts the embedded dispatcher leaves an answer in
 * (engine/shim.ts `PartsSerializer`, typed as the Buffer it stands in for).
 */
function answerOf(payload: Uint8Array | undefined): Uint8Array | ByteParts {
  const value: unknown = payload;
  if (value instanceof ByteParts) return value;
  return payload ?? new Uint8Array();
}

export interface EvaluateResult {
  txId: string;
  /** The chaincode response payload. */
  payload: Uint8Array;
  /**
   * The payload as the contract built it: its parts, in order (chaincode/bytes.ts: a page of receipts),
   * or the payload alone. `payload` is their concatenation, made only when read.
   */
  parts: readonly Uint8Array[];
  /** `payload` decoded as UTF-8: what a contract returning a string returned. */
  result: string;
}

/**
 * An evaluation's answer. The payload is concatenated and decoded on first read: the gateway takes the
 * parts (a page of receipts is ~280 KB) and pays for neither. A class, not an object literal with
 * getters: the getters' closures kept the endorsement's whole context alive with each answer
 * (docs/performance.md §11, "Queries, ninth pass").
 */
export class Evaluated implements EvaluateResult {
  readonly parts: readonly Uint8Array[];
  #answer: Uint8Array | ByteParts;
  #payload: Uint8Array | undefined;
  #result: string | undefined;

  constructor(
    readonly txId: string,
    answer: Uint8Array | ByteParts,
  ) {
    this.#answer = answer;
    this.parts = answer instanceof ByteParts ? answer.parts : [answer];
  }

  get payload(): Uint8Array {
    const answer = this.#answer;
    this.#payload ??= answer instanceof ByteParts ? answer.concat() : answer;
    return this.#payload;
  }

  get result(): string {
    this.#result ??= utf8Text(this.payload);
    return this.#result;
  }
}

const EPOCH = Buffer.alloc(8); // Fabric clients send epoch 0

/**
 * Proposal nonces, drawn from the CSPRNG a page at a time: one `randomBytes` call per ~170
 * transactions instead of one each (the bytes are the same CSPRNG's; only the call is shared).
 */
export class Nonces {
  private page = Buffer.alloc(0);
  private at = 0;

  next(length: number): Buffer {
    if (this.at + length > this.page.length) {
      this.page = randomBytes(Math.max(4096, length));
      this.at = 0;
    }
    const nonce = this.page.subarray(this.at, this.at + length);
    this.at += length;
    return nonce;
  }
}

export async function endorse(
  endorser: Endorser,
  state: StateView,
  identity: Identity,
  fcn: string,
  args: readonly string[],
  options: SubmitOptions,
): Promise<{ tx: EndorsedTx; answer: Uint8Array | ByteParts }> {
  if (typeof fcn !== 'string' || fcn.length === 0)
    throw new EngineError('E_ARGUMENT', 'fcn must be a non-empty string');
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) {
    throw new EngineError('E_ARGUMENT', 'args must be an array of strings');
  }
  const creator = await endorser.identities.verify(identity);
  // A Fabric client's proposal: random nonce, tx id = SHA-256(nonce ‖ serialized creator), its clock.
  const nonce = endorser.nonces.next(24);
  const txId = sha256Hex(Buffer.concat([nonce, creator.serialized]));
  const ms = Date.now();
  const timestamp = { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
  const call = [fcn, ...args];
  // Encoded once: what the stub hands the dispatcher, and what the args hash is taken over (before
  // the contract runs, so nothing it does to its buffers can reach the block).
  const bufferArgs = call.map(utf8WithText);
  const argsHash = argsHashOf(args, bufferArgs.slice(1));
  const sim = new TxSimulation(txId);
  let binding: string | undefined;
  const stub = new EmbeddedStub(
    {
      txId,
      channelId: endorser.settings.channel,
      chaincodeName: endorser.settings.chaincodeName,
      creator,
      peerMspId: endorser.settings.peerMspId,
      args: call,
      bufferArgs,
      transient: new Map(Object.entries(options.transient ?? {})),
      timestamp,
      get binding() {
        // Only a contract that asks for it pays for it.
        binding ??= sha256Hex(Buffer.concat([nonce, creator.serialized, EPOCH]));
        return binding;
      },
      totalQueryLimit: endorser.settings.totalQueryLimit,
    },
    state,
    sim,
  );
  let response: Awaited<ReturnType<Chaincode['Invoke']>>;
  try {
    response = await endorser.chaincode.Invoke(stub);
  } finally {
    await stub.closeIterators();
  }
  if (response.status >= 400) {
    throw new EngineError('E_ENDORSE', response.message ?? '', { txId, status: response.status });
  }
  return { tx: { txId, timestamp, creator, fcn, argsHash, sim }, answer: answerOf(response.payload) };
}
