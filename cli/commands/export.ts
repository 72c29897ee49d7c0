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
  quiet?: boolean;
}

/** Most progress redraws per second on the terminal. */
const REDRAW_MS = 200;

/**
 * `exporting… 12,345 lines, 80.1 MiB (7.9 MiB/s)` on stderr, redrawn in place: one bundle line is
 * one key, receipt or link, so lines count the export's progress as the server streams it.
 */
class DownloadProgress {
  private readonly started = performance.now();
  private lines = 0;
  private drawn = 0;

  update(bytes: number, chunk: Uint8Array): void {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.lines++;
    const now = performance.now();
    if (now - this.drawn < REDRAW_MS) return;
    this.drawn = now;
    this.draw(bytes, now);
  }

  done(bytes: number): void {
    this.draw(bytes, performance.now());
    process.stderr.write('\n');
  }

  private draw(bytes: number, now: number): void {
    const mib = bytes / 2 ** 20;
    const rate = mib / Math.max((now - this.started) / 1000, 0.001);
    process.stderr.write(
      `\rexporting… ${this.lines.toLocaleString('en-US')} lines, ${mib.toFixed(1)} MiB (${rate.toFixed(1)} MiB/s) `,
    );
  }
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
    .option('-q, --quiet', 'no progress on stderr (there is none when stderr is not a terminal)')
    .action(async (o: ExportOptions) => {
      if (!o.source && !o.subject && !o.operation)
        throw new CliError('give at least one of --source, --subject, --operation');
      const progress = o.quiet || !process.stderr.isTTY ? undefined : new DownloadProgress();
      const filter = {
        source: o.source,
        subject: o.subject,
        operation: o.operation,
        from: o.from,
        to: o.to,
        ...(o.cosigned ? { checkpoint: 'cosigned' as const } : {}),
      };
      const bytes = await saveStream(await connect(o).export(filter), o.out, (n, chunk) =>
        progress?.update(n, chunk),
      );
      progress?.done(bytes);
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
