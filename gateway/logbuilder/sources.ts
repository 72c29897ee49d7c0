/** Block sources for the log builder. Fabric's (block events via fabric-gateway) lives with its driver. */
import type { Block, EmbeddedLedger } from '../../engine/index.js';
import type { BlockSource, LogBlock } from './builder.js';

export function logBlockOf(block: Block): LogBlock {
  return {
    number: block.number,
    transactions: block.transactions.map((tx) => ({
      txId: tx.txId,
      valid: tx.validationCode === 'VALID',
      event: tx.event ? { name: tx.event.name, payload: Buffer.from(tx.event.payload, 'base64') } : null,
    })),
  };
}

/** The embedded engine's committed blocks, replayed from `fromBlock` then followed live. */
export function embeddedBlockSource(ledger: EmbeddedLedger): BlockSource {
  return async function* (fromBlock, signal) {
    for await (const block of ledger.blocks(fromBlock, { signal })) yield logBlockOf(block);
  };
}
