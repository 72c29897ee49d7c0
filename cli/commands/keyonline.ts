/** `torgo key register|show|history|rotate|revoke`: the ledger's signer key registry, through the gateway. */
import type { KeyRecord } from '@torgo/client';
import type { Command } from 'commander';
import { importPublicKey } from '../../core/index.js';
import { connect, type OnlineOptions, online } from '../gateway-client.js';
import { readText } from '../io.js';
import type { Output } from '../output.js';

const KEY_FILE_LIMIT = 64 * 1024;

function describe(k: KeyRecord): string {
  const revoked = k.revokedAt ? `\nrevoked      ${k.revokedAt}: ${k.revocationReason ?? ''}` : '';
  return `key          ${k.keyId}\nalg          ${k.alg}\nstatus       ${k.status}\nlabel        ${k.label}\nowner        ${k.owner.mspId} ${k.owner.id}\nregistered   ${k.registeredAt}${revoked}\n`;
}

export function addKeyOnline(key: Command, output: Output): void {
  online(key.command('register'))
    .description("register a public key on the ledger, owned by the token's identity")
    .argument('<public-key>', 'PUBLIC KEY PEM file (torgo key generate writes NAME.pub.pem)')
    .option('--label <text>', 'a label people recognise')
    .option('--json', 'JSON')
    .action(async (file: string, opts: OnlineOptions & { label?: string; json?: boolean }) => {
      const pem = await readText(file, KEY_FILE_LIMIT, 'public key');
      importPublicKey(pem); // a bad file fails here, with core's code, before any request
      const r = await connect(opts).keys.register({
        publicKey: pem,
        ...(opts.label ? { label: opts.label } : {}),
      });
      output.out(opts.json ? `${JSON.stringify(r)}\n` : `registered ${r.key.keyId} (block ${r.block})\n`);
    });
  online(key.command('show'))
    .description('show a key record')
    .argument('<key-id>', '64 hex')
    .option('--json', 'JSON')
    .action(async (keyId: string, opts: OnlineOptions & { json?: boolean }) => {
      const k = await connect(opts).keys.get(keyId);
      output.out(opts.json ? `${JSON.stringify(k)}\n` : describe(k));
    });
  online(key.command('history'))
    .description("a key's every committed version")
    .argument('<key-id>', '64 hex')
    .option('--json', 'JSON')
    .action(async (keyId: string, opts: OnlineOptions & { json?: boolean }) => {
      const r = await connect(opts).keys.history(keyId);
      if (opts.json) {
        output.out(`${JSON.stringify(r)}\n`);
        return;
      }
      for (const h of r.history)
        output.out(`${h.timestamp}  ${h.value?.status ?? 'deleted'}  tx ${h.txId}\n`);
    });
  online(key.command('rotate'))
    .description('retire a key you own in favour of a new one')
    .argument('<key-id>', 'the key to retire')
    .argument('<new-public-key>', 'PUBLIC KEY PEM file of its successor')
    .action(async (keyId: string, file: string, opts: OnlineOptions) => {
      const pem = await readText(file, KEY_FILE_LIMIT, 'public key');
      importPublicKey(pem);
      const r = await connect(opts).keys.rotate(keyId, pem);
      output.out(`rotated ${keyId} → ${r.registered.keyId} (block ${r.block})\n`);
    });
  online(key.command('revoke'))
    .description('revoke a key (its owner, or an admin)')
    .argument('<key-id>', '64 hex')
    .requiredOption('--reason <text>', 'why (recorded on the ledger)')
    .action(async (keyId: string, opts: OnlineOptions & { reason: string }) => {
      const r = await connect(opts).keys.revoke(keyId, opts.reason);
      output.out(`revoked ${r.key.keyId} at ${r.key.revokedAt} (block ${r.block})\n`);
    });
}
