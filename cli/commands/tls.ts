/**
 * `torgo tls dev-cert` and `torgo tls client-cert`: development certificates for loopback HTTPS and
 * mutual TLS (gateway/tls/devcert.ts). Offline: they write files, the gateway reads them at start.
 */
import type { Command } from 'commander';
import { CliError, EXIT_USAGE } from '../errors.js';
import type { Output } from '../output.js';

const collect = (value: string, previous: string[]): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];

function days(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,4}$/.test(value)) throw new CliError('--days must be a number', EXIT_USAGE);
  return Number(value);
}

export function addTls(program: Command, output: Output): void {
  const tls = program.command('tls').description('TLS certificates for development (HTTPS, mutual TLS)');
  tls
    .command('dev-cert')
    .description(
      'create a development CA and a server certificate for localhost, 127.0.0.1 and ::1 (keys 0600)',
    )
    .option('--dir <dir>', 'where to write ca.pem, ca.key.pem, server.pem, server.key.pem', './tls')
    .option('--host <name>', 'another host name or IP address (repeatable or comma-separated)', collect, [])
    .option('--days <n>', 'validity in days (1–825)', '90')
    .action(async (flags: { dir: string; host: string[]; days?: string }) => {
      const { createDevCertificates, DevCertError } = await import('../../gateway/tls/devcert.js');
      try {
        const r = await createDevCertificates({
          dir: flags.dir,
          hosts: flags.host,
          validityDays: days(flags.days),
        });
        output.out(
          [
            `wrote ${r.files.join(', ')}`,
            `server certificate for ${r.hosts.join(', ')}, valid until ${r.notAfter}`,
            `serve:   torgo serve --tls-cert ${r.files[2]} --tls-key ${r.files[3]}`,
            `clients: --ca-file ${r.files[0]} (or TORGO_CA_FILE) with --gateway https://127.0.0.1:8080`,
            '',
          ].join('\n'),
        );
      } catch (e) {
        if (e instanceof DevCertError) throw new CliError(e.message, EXIT_USAGE, e.code);
        throw e;
      }
    });
  tls
    .command('client-cert')
    .description('issue a client certificate (mutual TLS) that acts as a token, from the CA in --dir')
    .argument('<token-id>', 'the token the certificate stands for (16 hex digits, `torgo token list`)')
    .option('--dir <dir>', 'the development CA directory (torgo tls dev-cert)', './tls')
    .option('--days <n>', 'validity in days (1–825)', '90')
    .action(async (tokenId: string, flags: { dir: string; days?: string }) => {
      const { createClientCertificate, DevCertError } = await import('../../gateway/tls/devcert.js');
      try {
        const r = await createClientCertificate({ dir: flags.dir, tokenId, validityDays: days(flags.days) });
        output.out(
          [
            `wrote ${r.files.join(', ')} (valid until ${r.notAfter})`,
            `use:  --cert ${r.files[0]} --key ${r.files[1]} (or TORGO_CERT / TORGO_KEY)`,
            '',
          ].join('\n'),
        );
      } catch (e) {
        if (e instanceof DevCertError) throw new CliError(e.message, EXIT_USAGE, e.code);
        throw e;
      }
    });
}
