/**
 * `torgo token create|revoke|list`: API tokens, managed through the running gateway's admin API
 * (the gateway owns the data directory), with an admin token.
 */
import type { Command } from 'commander';
import { GatewayClient, type OnlineOptions, online, table } from '../gateway-client.js';
import type { Output } from '../output.js';

interface TokenInfo {
  id: string;
  name: string;
  roles: string[];
  identity: string;
  createdAt: string;
  createdBy: string;
  revokedAt?: string;
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
      'appender, auditor, admin, log-operator (repeatable or comma-separated)',
      collect,
      [],
    )
    .option(
      '--identity <label>',
      'use this wallet identity instead of issuing one (required on Fabric without fabric.ca)',
    )
    .option('--json', 'print {token, info} as JSON')
    .action(
      async (opts: OnlineOptions & { name: string; role: string[]; identity?: string; json?: boolean }) => {
        const client = GatewayClient.from(opts);
        const body = {
          name: opts.name,
          roles: opts.role,
          ...(opts.identity ? { identity: opts.identity } : {}),
        };
        const r = await client.json<{ token: string; info: TokenInfo }>('POST', '/v1/tokens', { json: body });
        if (opts.json) output.out(`${JSON.stringify(r.value)}\n`);
        else {
          const i = r.value.info;
          output.err(
            `token ${i.id} for ${i.name} (roles ${i.roles.join(',')}, identity ${i.identity}); shown once:\n`,
          );
          output.out(`${r.value.token}\n`);
        }
      },
    );
  online(token.command('revoke'))
    .description('revoke a token (its next request is refused)')
    .argument('<id>', 'token id (16 hex, as `token list` shows)')
    .action(async (id: string, opts: OnlineOptions) => {
      const r = await GatewayClient.from(opts).json<TokenInfo>(
        'POST',
        `/v1/tokens/${encodeURIComponent(id)}/revoke`,
      );
      output.out(`revoked ${r.value.id} (${r.value.name}) at ${r.value.revokedAt}\n`);
    });
  online(token.command('list'))
    .description('list tokens (never their secrets)')
    .option('--json', 'JSON')
    .action(async (opts: OnlineOptions & { json?: boolean }) => {
      const r = await GatewayClient.from(opts).json<{ tokens: TokenInfo[] }>('GET', '/v1/tokens');
      if (opts.json) {
        output.out(`${JSON.stringify(r.value)}\n`);
        return;
      }
      output.out(
        table(
          ['ID', 'NAME', 'ROLES', 'IDENTITY', 'CREATED', 'REVOKED'],
          r.value.tokens.map((t) => [
            t.id,
            t.name,
            t.roles.join(','),
            t.identity,
            t.createdAt,
            t.revokedAt ?? '',
          ]),
        ),
      );
    });
  return token;
}
