/** `torgo get ID`: one receipt from the ledger (summary, --json, or the .mu file with --mu). */
import type { Command } from 'commander';
import { connect, type OnlineOptions, online } from '../gateway-client.js';
import type { Output } from '../output.js';

export function addGet(program: Command, output: Output): void {
  online(program.command('get'))
    .description('show one receipt')
    .argument('<id>', 'receipt id (ULID or UUID)')
    .option('--json', 'the JSON record')
    .option('--mu', 'the .mu file exactly as appended')
    .action(async (id: string, opts: OnlineOptions & { json?: boolean; mu?: boolean }) => {
      const client = connect(opts);
      if (opts.mu) {
        output.out(await client.getMu(id));
        return;
      }
      const v = await client.get(id);
      if (opts.json) {
        output.out(`${JSON.stringify(v)}\n`);
        return;
      }
      const lines = [
        ['id', v.id],
        ['source', v.source],
        ['operation', v.operation],
        ['subject', v.subject],
        ['occurred at', v.occurredAt],
        ['committed at', v.committedAt],
        ['block', v.block === undefined ? '?' : String(v.block)],
        ['tx', v.txId],
        ['hash', v.hash],
        ['signers', v.signerKeyIds.join(', ')],
        ['submitter', `${v.submitter.mspId} ${v.submitter.id}`],
        ...v.revokedSigners.map((s) => ['REVOKED signer', `${s.keyId} at ${s.revokedAt}: ${s.reason}`]),
      ];
      output.out(`${lines.map(([k, val]) => `${k!.padEnd(14)}${val}`).join('\n')}\n`);
    });
}
