/** `torgo export [filters] -o FILE` and `torgo checkpoint`: the transparency log over the gateway. */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { connect, type OnlineOptions, online, saveStream } from '../gateway-client.js';
import type { Output } from '../output.js';

interface ExportOptions extends OnlineOptions {
  source?: string;
  subject?: string;
  operation?: string;
  from?: string;
  to?: string;
  cosigned?: boolean;
  out: string;
}

export function addExport(program: Command, output: Output): void {
  online(program.command('export'))
    .description(
      'download an export bundle (torgo.bundle/2, signed by the log operator) of a selection, for `torgo verify`',
    )
    .option('--source <name>', 'receipts of this source')
    .option('--subject <ref>', 'receipts about this subject')
    .option('--operation <name>', 'receipts of this operation')
    .option('--from <time>', 'committed at or after (RFC 3339 UTC)')
    .option('--to <time>', 'committed before (RFC 3339 UTC)')
    .option(
      '--cosigned',
      "bundle the newest checkpoint cosigned by other organisations' witnesses (for `torgo verify --threshold N`); receipts logged after it are left out",
    )
    .requiredOption('-o, --out <file>', 'bundle file to write')
    .action(async (o: ExportOptions) => {
      if (!o.source && !o.subject && !o.operation)
        throw new CliError('give at least one of --source, --subject, --operation');
      const tty = process.stderr.isTTY;
      const started = performance.now();
      const client = connect(o);
      const filter = {
        source: o.source,
        subject: o.subject,
        operation: o.operation,
        from: o.from,
        to: o.to,
        ...(o.cosigned ? { checkpoint: 'cosigned' as const } : {}),
      };
      const bytes = await saveStream(await client.export(filter), o.out, (n) => {
        if (tty) {
          const mib = (n / 2 ** 20).toFixed(1);
          const rate = (n / 2 ** 20 / ((performance.now() - started) / 1000)).toFixed(1);
          process.stderr.write(`\rexporting… ${mib} MiB (${rate} MiB/s) `);
        }
      });
      if (tty) process.stderr.write('\n');
      output.out(
        `wrote ${o.out} (${bytes} bytes); verify it with: torgo verify ${o.out} --trust OPERATOR.pub.pem\n`,
      );
    });

  online(program.command('checkpoint'))
    .description("print the log's latest signed checkpoint (C2SP signed note)")
    .option('--now', 'issue a fresh one first (log-operator or admin)')
    .option('--json', 'the JSON answer (origin, size, rootHash, note, operatorKeyId)')
    .action(async (o: OnlineOptions & { now?: boolean; json?: boolean }) => {
      const checkpoint = await connect(o).checkpoint({ fresh: o.now === true });
      output.out(o.json ? `${JSON.stringify(checkpoint)}\n` : checkpoint.note);
    });
}
