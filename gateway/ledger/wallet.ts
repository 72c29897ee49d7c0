/**
 * Identities on disk in the file-system wallet format of `fabric-network` 2.2 (`Wallets.newFileSystemWallet`):
 * one `<label>.id` file per identity holding
 * `{"credentials":{"certificate":PEM,"privateKey":PEM},"mspId":…,"type":"X.509","version":1}`.
 * Fabric identities enrolled with fabric-ca-client or the fabric-network SDK drop straight in; the
 * embedded ledger's CA writes the same files, so both drivers read identities one way.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

export interface WalletIdentity {
  readonly label: string;
  readonly mspId: string;
  readonly certificate: string;
  readonly privateKey: string;
}

interface WalletFile {
  credentials: { certificate: string; privateKey: string };
  mspId: string;
  type: 'X.509';
  version: 1;
}

export const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

export class WalletError extends Error {
  override readonly name = 'WalletError';
}

export class FileSystemWallet {
  private readonly cache = new Map<string, WalletIdentity>();

  constructor(readonly dir: string) {}

  private file(label: string): string {
    if (!LABEL_PATTERN.test(label))
      throw new WalletError(`wallet label "${label}" must match ${LABEL_PATTERN.source}`);
    return path.join(this.dir, `${label}.id`);
  }

  async get(label: string): Promise<WalletIdentity | undefined> {
    const cached = this.cache.get(label);
    if (cached) return cached;
    let text: string;
    try {
      text = await readFile(this.file(label), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    let parsed: WalletFile;
    try {
      parsed = JSON.parse(text) as WalletFile;
    } catch {
      throw new WalletError(`wallet entry ${label}.id is not JSON`);
    }
    const { credentials, mspId, type } = parsed ?? {};
    if (
      type !== 'X.509' ||
      typeof mspId !== 'string' ||
      typeof credentials?.certificate !== 'string' ||
      typeof credentials.privateKey !== 'string'
    ) {
      throw new WalletError(
        `wallet entry ${label}.id is not an X.509 identity (credentials.certificate, credentials.privateKey, mspId)`,
      );
    }
    const identity: WalletIdentity = {
      label,
      mspId,
      certificate: credentials.certificate,
      privateKey: credentials.privateKey,
    };
    this.cache.set(label, identity);
    return identity;
  }

  /** Writes an identity (mode 0600, atomically); refuses to replace an existing label. */
  async put(identity: WalletIdentity): Promise<void> {
    const target = this.file(identity.label);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const body: WalletFile = {
      credentials: { certificate: identity.certificate, privateKey: identity.privateKey },
      mspId: identity.mspId,
      type: 'X.509',
      version: 1,
    };
    const tmp = `${target}.${process.pid}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(body));
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await open(target, 'r').then(
        async (h) => {
          await h.close();
          throw new WalletError(`wallet already holds an identity labelled ${identity.label}`);
        },
        (e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e;
        },
      );
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    this.cache.set(identity.label, identity);
  }
}
