/** `torgo query`: receipts by source / subject / operation in a time window (table, --json, --csv). */
import type { ReceiptResource } from '@torgo/client';
import type { Command } from 'commander';
import { CliError, EXIT_USAGE } from '../errors.js';
import { connect, type OnlineOptions, online, table } from '../gateway-client.js';
import type { Output } from '../output.js';

interface QueryFlags extends OnlineOptions {
  source?: string;
  subject?: string;
  operation?: string;
  from?: string;
  to?: string;
  order?: string;
  limit?: string;
  cursor?: string;
  all?: boolean;
  json?: boolean;
  csv?: boolean;
}

export function addQuery(program: Command, output: Output): void {
  online(program.command('query'))
    .description('query receipts (at least one of --source, --subject, --operation)')
    .option('--source <name>', 'receipts appended by this source')
    .option('--subject <ref>', 'receipts about this subject')
    .option('--operation <name>', 'receipts of this operation')
    .option('--from <time>', 'committed at or after (RFC 3339 UTC)')
    .option('--to <time>', 'committed before (RFC 3339 UTC)')
    .option('--order <order>', 'asc (oldest first) or desc', 'asc')
    .option('--limit <n>', 'rows per page (1–100; with --csv: most rows in all)')
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--all', 'follow cursors to the end')
    .option('--json', 'JSON: one page object ({receipts, nextCursor}), or with --all one receipt per line')
    .option('--csv', 'CSV for spreadsheets, streamed')
    .action(async (flags: QueryFlags) => {
      if (!flags.source && !flags.subject && !flags.operation) {
        throw new CliError('give at least one of --source, --subject, --operation', EXIT_USAGE);
      }
      if (flags.json && flags.csv) throw new CliError('--json and --csv exclude each other', EXIT_USAGE);
      if (flags.limit !== undefined && !/^\d+$/.test(flags.limit))
        throw new CliError('--limit must be a number', EXIT_USAGE);
      const client = connect(flags);
      const filter = {
        source: flags.source,
        subject: flags.subject,
        operation: flags.operation,
        from: flags.from,
        to: flags.to,
        order: flags.order as 'asc' | 'desc',
        ...(flags.limit === undefined ? {} : { limit: Number(flags.limit) }),
      };
      if (flags.csv) {
        const decoder = new TextDecoder();
        for await (const chunk of await client.queryCsv({ ...filter, cursor: flags.cursor }))
          output.out(decoder.decode(chunk, { stream: true }));
        output.out(decoder.decode());
        return;
      }
      let cursor = flags.cursor;
      const rows: ReceiptResource[] = [];
      for (;;) {
        const page = await client.queryPage({ ...filter, cursor });
        if (flags.json && !flags.all) {
          output.out(`${JSON.stringify(page)}\n`);
          return;
        }
        if (flags.json) for (const r of page.receipts) output.out(`${JSON.stringify(r)}\n`);
        else rows.push(...page.receipts);
        cursor = page.nextCursor ?? undefined;
        if (!flags.all || !cursor) break;
      }
      if (flags.json) return;
      output.out(
        table(
          ['COMMITTED AT', 'ID', 'SOURCE', 'OPERATION', 'SUBJECT', 'FLAGS'],
          rows.map((r) => [
            r.committedAt,
            r.id,
            r.source,
            r.operation,
            r.subject,
            r.revokedSigners.length > 0 ? 'signer revoked' : '',
          ]),
        ),
      );
      if (cursor) output.err(`more: --cursor ${cursor}\n`);
    });
}
