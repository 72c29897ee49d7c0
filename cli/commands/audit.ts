/**
 * `torgo audit tokens`: the gateway's token audit log (every token issue, rotation, revocation and
 * refused grant), with its hash chain checked over everything read, from the genesis or from a
 * head the auditor pinned earlier (docs/cli.md).
 */
import type { AuditPage } from '@torgo/client';
import type { Command } from 'commander';
import {
  AUDIT_GENESIS,
  AuditChainError,
  type AuditEvent,
  verifyAuditChain,
} from '../../gateway/auth/audit.js';
import { CliError, EXIT_INVALID, EXIT_USAGE } from '../errors.js';
import { connect, type OnlineOptions, online, table } from '../gateway-client.js';
import type { Output } from '../output.js';

function describeActor(a: AuditEvent['actor']): string {
  return a.kind === 'token' ? `token ${a.tokenId} (${a.identity})` : `operator (${a.procedure})`;
}

export function addAudit(program: Command, output: Output): void {
  const audit = program.command('audit').description('audit logs of the gateway (auditor, admin)');
  online(audit.command('tokens'))
    .description(
      'every token issue, rotation, revocation and refused grant, with the hash chain checked; exit 1 if it is broken',
    )
    .option('--after <seq>', 'start after this event (default 0: from the first, chain checked from genesis)')
    .option('--head <seq:hash>', 'a head pinned earlier: the log read now must still contain it')
    .option('--json', 'one event per line, then {"head":…}')
    .action(async (opts: OnlineOptions & { after?: string; head?: string; json?: boolean }) => {
      const client = connect(opts);
      if (opts.after !== undefined && !/^\d{1,15}$/.test(opts.after))
        throw new CliError('--after must be an event number', EXIT_USAGE, 'E_USAGE');
      const pinned =
        opts.head === undefined ? undefined : /^(\d{1,15}):(sha256:[0-9a-f]{64})$/.exec(opts.head);
      if (opts.head !== undefined && !pinned)
        throw new CliError(
          '--head must be <seq>:sha256:<hex>, as this command prints it',
          EXIT_USAGE,
          'E_USAGE',
        );
      if (pinned && opts.after !== undefined)
        throw new CliError('give --after or --head, not both', EXIT_USAGE, 'E_USAGE');
      // Where the chain starts: the genesis, a pinned head (which the log must still extend), or,
      // from --after N, the first event read (nothing before it is checked).
      const after = pinned ? Number(pinned[1]) : Number(opts.after ?? 0);
      let start: { seq: number; hash: string } | undefined = pinned
        ? { seq: after, hash: pinned[2]! }
        : after === 0
          ? { seq: 0, hash: AUDIT_GENESIS }
          : undefined;
      const events: AuditEvent[] = [];
      let head: AuditPage['head'] = { seq: 0, hash: AUDIT_GENESIS };
      let next: number | null = after;
      while (next !== null) {
        const page = await client.tokens.audit({ after: next, limit: 1000 });
        events.push(...page.events);
        head = page.head;
        next = page.nextAfter;
      }
      start ??= { seq: after, hash: events[0]?.prev ?? head.hash };
      try {
        const last = verifyAuditChain(events, start);
        if (last !== head.hash || (events.at(-1)?.seq ?? start.seq) !== head.seq)
          throw new AuditChainError(
            pinned
              ? `the log no longer extends the pinned head ${opts.head} (head now ${head.seq}:${head.hash})`
              : `the events read do not end at the head ${head.seq}:${head.hash}`,
            head.seq,
          );
      } catch (e) {
        if (e instanceof AuditChainError)
          throw new CliError(`token audit log: ${e.message}`, EXIT_INVALID, e.code);
        throw e;
      }
      if (opts.json) {
        for (const e of events) output.out(`${JSON.stringify(e)}\n`);
        output.out(`${JSON.stringify({ head })}\n`);
        return;
      }
      output.out(
        table(
          ['SEQ', 'AT', 'EVENT', 'BY', 'TOKEN', 'IDENTITY', 'ROLES', 'NOTE'],
          events.map((e) => [
            String(e.seq),
            e.at,
            e.event,
            describeActor(e.actor),
            e.token?.id ?? '',
            e.token?.identity ?? String(e.refused?.request['identity'] ?? ''),
            e.token?.roles.join(',') ?? '',
            e.replaces ? `replaces ${e.replaces}` : e.refused ? `${e.refused.code}` : '',
          ]),
        ),
      );
      output.err(`chain checked: ${events.length} event(s); head ${head.seq}:${head.hash}\n`);
    });
}
