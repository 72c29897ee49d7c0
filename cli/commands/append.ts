/**
 * `torgo append FILE…`: append signed .mu receipts through the gateway. One file goes as the .mu
 * bytes themselves (text/markdown); several go in batches of up to 100 and at most BATCH_BYTES of
 * JSON. A file over the receipt format's size limit is refused here, before anything is sent.
 */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { MAX_FILE_BYTES } from '../../core/index.js';
import { CliError, EXIT_INVALID, EXIT_USAGE } from '../errors.js';
import { GatewayClient, type OnlineOptions, online } from '../gateway-client.js';
import { readBounded } from '../io.js';
import type { Output } from '../output.js';

const BATCH = 100;
/** Under the gateway's default batch body limit (8 MiB, limits.batchBodyBytes), JSON escaping included. */
const BATCH_BYTES = 7 * 1024 * 1024;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** E_RECEIPT_TOO_LARGE for a file over the format's limit (docs/receipt-format.md §2), else undefined. */
async function oversize(file: string): Promise<ItemResult | undefined> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (e) {
    throw new CliError(`cannot read receipt ${file}: ${(e as Error).message}`, EXIT_USAGE, 'E_IO');
  }
  if (size <= MAX_FILE_BYTES) return undefined;
  return {
    file,
    status: 0,
    error: {
      code: 'E_RECEIPT_TOO_LARGE',
      message: `${file} is ${size} bytes; a receipt file is at most ${MAX_FILE_BYTES} bytes (96 KiB, docs/receipt-format.md §2): not sent`,
    },
  };
}

interface Ack {
  id: string;
  txId: string;
  block: number;
  hash: string;
  committedAt: string;
}

interface ItemResult {
  file: string;
  status: number;
  receipt?: Ack;
  error?: { code: string; message: string };
}

export function addAppend(program: Command, output: Output): void {
  online(program.command('append'))
    .description('append signed .mu receipts (201 appended, 200 already there); exit 1 if any failed')
    .argument('<files...>', '.mu receipt files')
    .option('--json', 'one JSON result per line')
    .action(async (files: string[], opts: OnlineOptions & { json?: boolean }) => {
      const client = GatewayClient.from(opts);
      const results: ItemResult[] = [];
      const sendable: string[] = [];
      for (const file of files) {
        const refused = await oversize(file);
        if (refused) results.push(refused);
        else sendable.push(file);
      }
      if (sendable.length === 1 && files.length === 1) {
        const file = sendable[0]!;
        const text = await readBounded(file, MAX_FILE_BYTES, 'receipt');
        try {
          const r = await client.json<Ack>('POST', '/v1/receipts', { text });
          results.push({ file, status: r.status, receipt: r.value });
        } catch (e) {
          if (!(e instanceof CliError) || e.code.startsWith('E_GATEWAY') || e.code === 'E_USAGE') throw e;
          results.push({ file, status: 0, error: { code: e.code, message: e.message } });
        }
      } else {
        for (let i = 0; i < sendable.length; ) {
          // One batch: up to BATCH files and BATCH_BYTES of JSON.
          const chunk: string[] = [];
          const texts: string[] = [];
          let bytes = 0;
          while (i < sendable.length && chunk.length < BATCH) {
            const file = sendable[i]!;
            let text: string;
            try {
              // JSON carries text: a file that is not UTF-8 is reported, never repaired into other bytes.
              text = UTF8.decode(await readBounded(file, MAX_FILE_BYTES, 'receipt'));
            } catch (e) {
              if (e instanceof CliError) throw e;
              results.push({
                file,
                status: 0,
                error: { code: 'E_RECEIPT_ENCODING', message: `${file} is not valid UTF-8: not sent` },
              });
              i++;
              continue;
            }
            const size = Buffer.byteLength(JSON.stringify(text));
            if (chunk.length > 0 && bytes + size > BATCH_BYTES) break;
            chunk.push(file);
            texts.push(text);
            bytes += size + 1;
            i++;
          }
          if (chunk.length === 0) continue;
          const r = await client.json<{
            results: {
              index: number;
              status: number;
              receipt?: Ack;
              error?: { code: string; message: string };
            }[];
          }>('POST', '/v1/receipts/batch', { json: { receipts: texts } });
          for (const item of r.value.results) results.push({ file: chunk[item.index]!, ...item });
        }
      }
      results.sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file));
      for (const r of results) {
        if (opts.json) output.out(`${JSON.stringify(r)}\n`);
        else if (r.receipt) {
          const what = r.status === 201 ? 'appended' : 'already on the ledger';
          output.out(
            `${r.file}: ${what}: ${r.receipt.id} block ${r.receipt.block} tx ${r.receipt.txId.slice(0, 16)}…\n`,
          );
        } else output.err(`${r.file}: ${r.error?.code}: ${r.error?.message}\n`);
      }
      const failed = results.filter((r) => !r.receipt).length;
      if (failed > 0)
        throw new CliError(
          `${failed} of ${results.length} receipts were not appended`,
          EXIT_INVALID,
          'E_APPEND_FAILED',
          true,
        );
    });
}
