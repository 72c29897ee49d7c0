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

/** What `sealBlock` gives: the block, its full encoding's length, and its stored form. */
export interface SealedBlock {
  block: Block;
  /** `encodeBlock(block).length`, without building it. */
  size: number;
  /** The block as stored: the values `apart` chose replaced by `null` (storage.ts keeps them under `v/`). */
  stored: Buffer;
}

/**
 * `buildBlock`, `encodeBlock`'s length and the stored form in one pass. Canonical JSON lists a
 * block's keys sorted (dataHash < hash < number < previousHash < transactions), a transaction's with
 * `writeSet` last and a write's with `value` last, so each transaction is written as its other fields'
 * canonical JSON, then each write's head, then its value: a base64 value needs no escaping (its
 * alphabet is JSON-safe), and a value stored apart is never copied into the stored text. The text
 * both hashed and stored is gathered and given to the digest in one call per value stored apart
 * (a block of 50 receipts has ~1,400 pieces: one `update` each cost more than the hashing). Tests
 * hold the results to `buildBlock`, `encodeBlock` and storage.ts's `encodeStoredBlock`.
 */
export function sealBlock(
  number: number,
  previousHash: string,
  transactions: BlockTransaction[],
  apart: (write: BlockWrite) => boolean = () => false,
): SealedBlock {
  const digest = createHash('sha256');
  const parts: string[] = [];
  /** Text hashed but not yet given to the digest. */
  let unhashed = '';
  let size = 0;
  /** Text that is both hashed and stored. */
  const both = (text: string): void => {
    unhashed += text;
    parts.push(text);
  };
  for (const [i, tx] of transactions.entries()) {
    const { writeSet, ...rest } = tx;
    const head = canonicalJson(rest);
    both(`${i === 0 ? '[' : ','}${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"writeSet":[`);
    for (const [j, w] of writeSet.entries()) {
      both(`${j === 0 ? '' : ','}{"isDelete":${w.isDelete},"key":${JSON.stringify(w.key)},"value":`);
      if (apart(w)) {
        digest.update(`${unhashed}"`, 'utf8');
        digest.update(w.value, 'latin1');
        unhashed = '"}';
        parts.push('null}');
        size += w.value.length + 2 - 4;
      } else both(`"${w.value}"}`);
    }
    both(']}');
  }
  both(transactions.length === 0 ? '[]' : ']');
  digest.update(unhashed, 'utf8');
  const dataHash = digest.digest('hex');
  const hash = headerHashOf(number, previousHash, dataHash);
  const head =
    `{"dataHash":${JSON.stringify(dataHash)},"hash":${JSON.stringify(hash)},"number":${canonicalJson(number)},` +
    `"previousHash":${JSON.stringify(previousHash)},"transactions":`;
  const stored = Buffer.from(`${head}${parts.join('')}}`, 'utf8');
  return {
    block: { number, previousHash, dataHash, hash, transactions },
    size: size + stored.length,
    stored,
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
