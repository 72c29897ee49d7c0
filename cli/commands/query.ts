/** `torgo query`: receipts by source / subject / operation in a time window (table, --json, --csv). */
import type { Command } from 'commander';
import { CliError, EXIT_USAGE } from '../errors.js';
import { GatewayClient, type OnlineOptions, online, table } from '../gateway-client.js';
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

interface Row {
  id: string;
  committedAt: string;
  source: string;
  operation: string;
  subject: string;
  revokedSigners: unknown[];
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
      const client = GatewayClient.from(flags);
      const params = new URLSearchParams();
      for (const k of ['source', 'subject', 'operation', 'from', 'to', 'order', 'limit'] as const) {
        if (flags[k] !== undefined) params.set(k, flags[k]!);
      }
      if (flags.csv) {
        if (flags.cursor) params.set('cursor', flags.cursor);
        output.out((await client.request('GET', `/v1/receipts?${params}`, { accept: 'text/csv' })).body);
        return;
      }
      let cursor = flags.cursor;
      const rows: Row[] = [];
      for (;;) {
        if (cursor) params.set('cursor', cursor);
        const page = (
          await client.json<{ receipts: Row[]; nextCursor: string | null }>('GET', `/v1/receipts?${params}`)
        ).value;
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
