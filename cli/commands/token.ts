/**
 * `torgo token create|rotate|revoke|list`: API tokens, managed through the running gateway's admin
 * API (the gateway owns the data directory), with an admin token (or, `rotate --self`, any token).
 */
import type { TokenCreated } from '@torgo/client';
import type { Command } from 'commander';
import { CliError, EXIT_USAGE } from '../errors.js';
import { connect, type OnlineOptions, online, table } from '../gateway-client.js';
import type { Output } from '../output.js';

function printNew(output: Output, value: TokenCreated, json?: boolean): void {
  if (json) {
    output.out(`${JSON.stringify(value)}\n`);
    return;
  }
  const i = value.info;
  const rotated = i.rotatedFrom ? `, replaces ${i.rotatedFrom} (now revoked)` : '';
  output.err(
    `token ${i.id} for ${i.name} (roles ${i.roles.join(',')}, identity ${i.identity}${rotated}); shown once:\n`,
  );
  output.out(`${value.token}\n`);
}

const collect = (value: string, previous: string[]): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];

export function addToken(program: Command, output: Output): Command {
  const token = program.command('token').description('API tokens (admin; through the gateway)');
  online(token.command('create'))
    .description('create a token; prints it once')
    .requiredOption('--name <name>', 'who the token is for (a service name)')
    .option(
      '--role <role>',
      'appender, auditor, admin (repeatable or comma-separated); log-operator only by the operator at start',
      collect,
      [],
    )
    .option(
      '--identity <label>',
      'bind the token to this wallet identity (one that never had a token) instead of issuing one (required on Fabric without fabric.ca)',
    )
    .option('--json', 'print {token, info} as JSON')
    .action(
      async (opts: OnlineOptions & { name: string; role: string[]; identity?: string; json?: boolean }) => {
        const client = connect(opts);
        const body = {
          name: opts.name,
          roles: opts.role,
          ...(opts.identity ? { identity: opts.identity } : {}),
        };
        printNew(output, await client.tokens.create(body), opts.json);
      },
    );
  online(token.command('rotate'))
    .description(
      "a new token for the same identity; the old one is revoked at once (admin: any token's; --self: the caller's own)",
    )
    .argument('[id]', 'token id (16 hex, as `token list` shows); omit with --self')
    .option('--self', 'rotate the token given with --token / TORGO_TOKEN (any role)')
    .option('--json', 'print {token, info} as JSON')
    .action(async (id: string | undefined, opts: OnlineOptions & { self?: boolean; json?: boolean }) => {
      if (Boolean(id) === Boolean(opts.self))
        throw new CliError('give a token id, or --self (not both)', EXIT_USAGE, 'E_USAGE');
      const client = connect(opts);
      printNew(output, await (opts.self ? client.tokens.rotateMine() : client.tokens.rotate(id!)), opts.json);
    });
  online(token.command('revoke'))
    .description('revoke a token (its next request is refused)')
    .argument('<id>', 'token id (16 hex, as `token list` shows)')
    .action(async (id: string, opts: OnlineOptions) => {
      const info = await connect(opts).tokens.revoke(id);
      output.out(`revoked ${info.id} (${info.name}) at ${info.revokedAt}\n`);
    });
  online(token.command('list'))
    .description('list tokens (never their secrets)')
    .option('--json', 'JSON')
    .action(async (opts: OnlineOptions & { json?: boolean }) => {
      const tokens = await connect(opts).tokens.list();
      if (opts.json) {
        output.out(`${JSON.stringify({ tokens })}\n`);
        return;
      }
      output.out(
        table(
          ['ID', 'NAME', 'ROLES', 'IDENTITY', 'CREATED', 'REVOKED'],
          tokens.map((t) => [t.id, t.name, t.roles.join(','), t.identity, t.createdAt, t.revokedAt ?? '']),
        ),
      );
    });
  return token;
}
