/** `torgo key generate`: ML-DSA key pairs on disk (PKCS#8 seed form 0600, SPKI PEM). */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  DEFAULT_ALGORITHM,
  generatePrivateKey,
  parseAlgorithm,
  privateKeyToPem,
  publicKeyToPem,
} from '../../core/index.js';
import { CliError } from '../errors.js';
import { writePublic, writeSecret } from '../io.js';
import type { Output } from '../output.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function addKeyGenerate(key: Command, output: Output): void {
  key
    .command('generate')
    .description('generate an ML-DSA key pair: DIR/NAME.key.pem (0600) and DIR/NAME.pub.pem')
    .requiredOption('--name <name>', 'file name stem for the key pair')
    .option('--out <dir>', 'directory to write the key pair to', '.')
    .option('--alg <alg>', 'ml-dsa-44, ml-dsa-65 or ml-dsa-87', DEFAULT_ALGORITHM.toLowerCase())
    .option('--force', 'overwrite an existing key file')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { name: string; out: string; alg: string; force?: boolean; json?: boolean }) => {
      if (!NAME.test(opts.name)) throw new CliError(`--name must match ${NAME.source}`);
      const key = generatePrivateKey(parseAlgorithm(opts.alg));
      await mkdir(opts.out, { recursive: true, mode: 0o700 });
      const privatePath = join(opts.out, `${opts.name}.key.pem`);
      const publicPath = join(opts.out, `${opts.name}.pub.pem`);
      await writeSecret(privatePath, privateKeyToPem(key), opts.force);
      await writePublic(publicPath, publicKeyToPem(key));
      const result = { keyId: key.keyId, alg: key.alg, privateKey: privatePath, publicKey: publicPath };
      output.out(
        opts.json
          ? `${JSON.stringify(result)}\n`
          : `${key.alg} key ${key.keyId}\n  private: ${privatePath} (mode 0600)\n  public:  ${publicPath}\n`,
      );
    });
}
