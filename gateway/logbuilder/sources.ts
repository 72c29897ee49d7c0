/** The embedded engine's blocks as the log builder reads them (Fabric's: ledger/fabric/blocks.ts). */
import type { Block } from '../../engine/index.js';
import type { LogBlock } from './builder.js';

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
