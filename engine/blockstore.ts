/**
 * The block format and its hash chain. A block is Fabric's shape reduced to what an audit needs:
 *
 *   dataHash = SHA-256(canonicalJson(transactions))
 *   hash     = SHA-256(canonicalJson({ number, previousHash, dataHash }))   (Fabric's header hash)
 *
 * with `previousHash` of block 0 all zeros. Every transaction ordered into a block is in it, valid or
 * not (as on Fabric); only VALID ones changed state. Hashes are lowercase hex; bytes are base64.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, sha256Hex } from './canonical.js';

/** Fabric's TxValidationCode names, for the codes the embedded engine can produce. */
export type ValidationCode = 'VALID' | 'MVCC_READ_CONFLICT' | 'PHANTOM_READ_CONFLICT' | 'DUPLICATE_TXID';

export interface TxTimestamp {
  seconds: number;
  nanos: number;
}

export interface BlockWrite {
  key: string;
  isDelete: boolean;
  /** Base64; empty for a delete. */
  value: string;
}

export interface BlockEvent {
  name: string;
  /** Base64. */
  payload: string;
}

export interface BlockTransaction {
  txId: string;
  /** The proposal's timestamp: what the contract saw as `getTxTimestamp()`. */
  timestamp: TxTimestamp;
  creator: { mspId: string; id: string };
  fcn: string;
  /** SHA-256 of canonicalJson(args), the parameters after `fcn`. */
  argsHash: string;
  /** SHA-256 of canonicalJson({reads, rangeQueries}) with every version read. */
  readSetHash: string;
  writeSet: BlockWrite[];
  validationCode: ValidationCode;
  /** The transaction's chaincode event (Fabric keeps at most one), or null. */
  event: BlockEvent | null;
}

export interface Block {
  number: number;
  previousHash: string;
  dataHash: string;
  hash: string;
  transactions: BlockTransaction[];
}

export const GENESIS_PREVIOUS_HASH = '0'.repeat(64);

export function dataHashOf(transactions: readonly BlockTransaction[]): string {
  return sha256Hex(canonicalJson(transactions));
}

export function headerHashOf(number: number, previousHash: string, dataHash: string): string {
  return sha256Hex(canonicalJson({ number, previousHash, dataHash }));
}

export function buildBlock(number: number, previousHash: string, transactions: BlockTransaction[]): Block {
  const dataHash = dataHashOf(transactions);
  return { number, previousHash, dataHash, hash: headerHashOf(number, previousHash, dataHash), transactions };
}

export function encodeBlock(block: Block): Buffer {
  return Buffer.from(canonicalJson(block), 'utf8');
}

/**
 * `buildBlock` and `encodeBlock` in one pass: each transaction is serialised and UTF-8 encoded once,
 * and those bytes are both hashed into `dataHash` and stored. `bytes` is exactly `encodeBlock(block)`:
 * canonical JSON lists a block's keys sorted, dataHash < hash < number < previousHash < transactions.
 */
export function sealBlock(
  number: number,
  previousHash: string,
  transactions: BlockTransaction[],
): { block: Block; bytes: Buffer } {
  const digest = createHash('sha256');
  const parts: Buffer[] = [];
  for (const [i, tx] of transactions.entries()) {
    const json = Buffer.from(`${i === 0 ? '[' : ','}${canonicalJson(tx)}`, 'utf8');
    digest.update(json);
    parts.push(json);
  }
  const close = Buffer.from(transactions.length === 0 ? '[]' : ']', 'utf8');
  digest.update(close);
  const dataHash = digest.digest('hex');
  const hash = headerHashOf(number, previousHash, dataHash);
  const head =
    `{"dataHash":${JSON.stringify(dataHash)},"hash":${JSON.stringify(hash)},"number":${canonicalJson(number)},` +
    `"previousHash":${JSON.stringify(previousHash)},"transactions":`;
  return {
    block: { number, previousHash, dataHash, hash, transactions },
    bytes: Buffer.concat([Buffer.from(head, 'utf8'), ...parts, close, Buffer.from('}', 'utf8')]),
  };
}

export function decodeBlock(bytes: Buffer): Block {
  return JSON.parse(bytes.toString('utf8')) as Block;
}

/** What is wrong with `block` as block `number` after a block whose hash is `previousHash`, if anything. */
export function blockProblem(block: Block, number: number, previousHash: string): string | undefined {
  if (block.number !== number) return `block ${number} says it is block ${block.number}`;
  if (block.previousHash !== previousHash)
    return `block ${number} does not link to the hash of block ${number - 1}`;
  if (dataHashOf(block.transactions) !== block.dataHash)
    return `block ${number}: transactions do not match dataHash`;
  if (headerHashOf(block.number, block.previousHash, block.dataHash) !== block.hash) {
    return `block ${number}: header does not match its hash`;
  }
  return undefined;
}
