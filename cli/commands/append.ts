/**
 * `torgo append FILE…`: append signed .mu receipts through the gateway. One file goes as the .mu
 * bytes themselves (text/markdown); several go in batches of up to 100 and at most BATCH_BYTES of
 * JSON. A file over the receipt format's size limit is refused here, before anything is sent.
 */
import { stat } from 'node:fs/promises';
import { type AppendAck, TorgoApiError } from '@torgo/client';
import type { Command } from 'commander';
import { MAX_FILE_BYTES } from '../../core/index.js';
import { CliError, EXIT_INVALID, EXIT_USAGE } from '../errors.js';
import { connect, type OnlineOptions, online } from '../gateway-client.js';
import { readBounded } from '../io.js';
import type { Output } from '../output.js';

const BATCH = 100;
/** Under the gateway's default batch body limit (8 MiB, limits.batchBodyBytes), JSON escaping included. */
const BATCH_BYTES = 7 * 1024 * 1024;

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

interface ItemResult {
  file: string;
  status: number;
  receipt?: AppendAck;
  error?: { code: string; message: string };
}

export function addAppend(program: Command, output: Output): void {
  online(program.command('append'))
    .description('append signed .mu receipts (201 appended, 200 already there); exit 1 if any failed')
    .argument('<files...>', '.mu receipt files')
    .option('--json', 'one JSON result per line')
    .action(async (files: string[], opts: OnlineOptions & { json?: boolean }) => {
      const client = connect(opts);
      const results: ItemResult[] = [];
      const sendable: string[] = [];
      for (const file of files) {
        const refused = await oversize(file);
        if (refused) results.push(refused);
        else sendable.push(file);
      }
      if (sendable.length === 1 && files.length === 1) {
        const file = sendable[0]!;
        const bytes = await readBounded(file, MAX_FILE_BYTES, 'receipt');
        try {
          const r = await client.append(bytes);
          results.push({ file, status: r.created ? 201 : 200, receipt: r.receipt });
        } catch (e) {
          // The gateway refused this receipt: report it like a batch item; anything else ends the command.
          if (!(e instanceof TorgoApiError) || e.status === 0) throw e;
          results.push({ file, status: e.status, error: { code: e.code, message: e.message } });
        }
      } else if (sendable.length > 0) {
        // JSON carries text: the client reports a file that is not UTF-8 (E_RECEIPT_ENCODING), never
        // repairing it into other bytes. Batches of up to BATCH receipts and BATCH_BYTES of JSON.
        // Files are read a batch at a time, so memory stays bounded however many are given.
        for (let at = 0; at < sendable.length; at += BATCH) {
          const group = sendable.slice(at, at + BATCH);
          const texts = await Promise.all(group.map((f) => readBounded(f, MAX_FILE_BYTES, 'receipt')));
          const batch = await client.appendBatch(texts, { maxItems: BATCH, maxBytes: BATCH_BYTES });
          for (const { index, ...rest } of batch.results) results.push({ file: group[index]!, ...rest });
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
