/** `torgo append FILE…`: append signed .mu receipts through the gateway (batches of up to 100). */
import type { Command } from 'commander';
import { MAX_FILE_BYTES } from '../../core/index.js';
import { CliError, EXIT_INVALID } from '../errors.js';
import { GatewayClient, type OnlineOptions, online } from '../gateway-client.js';
import { readBounded } from '../io.js';
import type { Output } from '../output.js';

const BATCH = 100;

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
      for (let i = 0; i < files.length; i += BATCH) {
        const chunk = files.slice(i, i + BATCH);
        const texts = await Promise.all(chunk.map((f) => readBounded(f, MAX_FILE_BYTES, 'receipt')));
        if (chunk.length === 1) {
          try {
            const r = await client.json<Ack>('POST', '/v1/receipts', {
              json: { receipt: new TextDecoder().decode(texts[0]) },
            });
            results.push({ file: chunk[0]!, status: r.status, receipt: r.value });
          } catch (e) {
            if (!(e instanceof CliError) || e.code.startsWith('E_GATEWAY') || e.code === 'E_USAGE') throw e;
            results.push({ file: chunk[0]!, status: 0, error: { code: e.code, message: e.message } });
          }
          continue;
        }
        const r = await client.json<{
          results: {
            index: number;
            status: number;
            receipt?: Ack;
            error?: { code: string; message: string };
          }[];
        }>('POST', '/v1/receipts/batch', {
          json: { receipts: texts.map((t) => new TextDecoder().decode(t)) },
        });
        for (const item of r.value.results) results.push({ file: chunk[item.index]!, ...item });
      }
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
