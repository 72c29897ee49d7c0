/**
 * API tokens. A token is `torgo_<id>_<secret>`: `id` (16 hex) names the token in lists and logs, the
 * secret (32 random bytes, base64url) is shown once and stored only as its SHA-256. A 256-bit random
 * secret needs no slow password hash: nothing can be guessed, and a stolen store reveals no token.
 *
 * Each token is bound to one identity (a wallet label) whose certificate carries the roles the
 * contract sees; the token repeats those roles so the gateway can refuse early what the contract
 * would refuse. An identity's tokens form one chain: the first is issued, each later one replaces
 * the one before it by rotation (`rotatedFrom`), so at most one token per identity is ever live.
 *
 * Store: `<dataDir>/gateway/tokens.json`, rewritten atomically (temp file, fsync, rename) under a
 * single writer (this process: the gateway holds the data directory).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Role } from '../../chaincode/identity.js';

export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly Role[];
  /** Wallet label of the identity the ledger sees as submitter. */
  readonly identity: string;
  /** `sha256:<hex>` of the secret. */
  readonly hash: string;
  readonly createdAt: string;
  /** Token id of the admin that created it; `bootstrap` for the first admin token. */
  readonly createdBy: string;
  readonly revokedAt?: string;
  readonly revokedBy?: string;
  /** The token this one replaced by rotation (revoked at this one's creation). */
  readonly rotatedFrom?: string;
}

/** A token as lists show it: never the hash. */
export type TokenInfo = Omit<TokenRecord, 'hash'>;

interface StoreFile {
  version: 1;
  tokens: TokenRecord[];
}

const TOKEN = /^torgo_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
export const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

function hashSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex')}`;
}

export function infoOf(r: TokenRecord): TokenInfo {
  const { hash: _hash, ...info } = r;
  return info;
}

export class TokenStore {
  private tokens = new Map<string, TokenRecord>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {}

  /** Opens the store; `created` is true when the file did not exist (a fresh data directory). */
  static async open(dataDir: string): Promise<{ store: TokenStore; created: boolean }> {
    const file = path.join(dataDir, 'gateway', 'tokens.json');
    const store = new TokenStore(file);
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text === undefined) return { store, created: true };
    const parsed = JSON.parse(text) as StoreFile;
    if (parsed.version !== 1 || !Array.isArray(parsed.tokens))
      throw new Error(`${file}: not a version 1 token store`);
    for (const t of parsed.tokens) store.tokens.set(t.id, t);
    return { store, created: false };
  }

  /** The token whose secret this is, if it exists and is not revoked. Constant time in the secret. */
  authenticate(token: string): TokenRecord | undefined {
    const m = TOKEN.exec(token);
    if (!m) return undefined;
    const record = this.tokens.get(m[1]!);
    const expected = Buffer.from(record?.hash ?? hashSecret('no such token'));
    const actual = Buffer.from(hashSecret(m[2]!));
    const same = expected.length === actual.length && timingSafeEqual(expected, actual);
    if (!record || !same || record.revokedAt) return undefined;
    return record;
  }

  list(): TokenInfo[] {
    return [...this.tokens.values()]
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
      .map(infoOf);
  }

  get(id: string): TokenRecord | undefined {
    return this.tokens.get(id);
  }

  /** The newest token bound to an identity (live or revoked): the one a rotation replaces. */
  latestFor(identity: string): TokenRecord | undefined {
    const mine = [...this.tokens.values()].filter((t) => t.identity === identity);
    const replaced = new Set(mine.map((t) => t.rotatedFrom));
    return mine
      .filter((t) => !replaced.has(t.id))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))[0];
  }

  /** A fresh id (no token has it) for a token about to be created. */
  newId(): string {
    let id: string;
    do id = randomBytes(8).toString('hex');
    while (this.tokens.has(id));
    return id;
  }

  /** Creates a token; returns its record and the token string, which exists nowhere else. */
  async create(fields: {
    id?: string;
    name: string;
    roles: readonly Role[];
    identity: string;
    createdBy: string;
  }): Promise<{ record: TokenRecord; token: string }> {
    return this.replace(undefined, fields);
  }

  /**
   * Rotation: creates a token for the same identity as `old` and revokes every live token of that
   * identity (`old`, and any left from before tokens were bound) in one write of the store.
   */
  async rotate(
    old: TokenRecord,
    fields: { id?: string; name: string; roles: readonly Role[]; createdBy: string },
  ): Promise<{ record: TokenRecord; token: string }> {
    return this.replace(old, { ...fields, identity: old.identity });
  }

  private async replace(
    old: TokenRecord | undefined,
    fields: { id?: string; name: string; roles: readonly Role[]; identity: string; createdBy: string },
  ): Promise<{ record: TokenRecord; token: string }> {
    const id = fields.id ?? this.newId();
    if (this.tokens.has(id)) throw new Error(`token id ${id} exists`);
    const secret = randomBytes(32).toString('base64url');
    const now = new Date().toISOString();
    const record: TokenRecord = {
      id,
      name: fields.name,
      roles: [...new Set(fields.roles)].sort(),
      identity: fields.identity,
      hash: hashSecret(secret),
      createdAt: now,
      createdBy: fields.createdBy,
      ...(old ? { rotatedFrom: old.id } : {}),
    };
    const before = old
      ? [...this.tokens.values()].filter((t) => t.identity === old.identity && !t.revokedAt)
      : [];
    for (const t of before) this.tokens.set(t.id, { ...t, revokedAt: now, revokedBy: fields.createdBy });
    this.tokens.set(id, record);
    try {
      await this.save();
    } catch (e) {
      this.tokens.delete(id);
      for (const t of before) this.tokens.set(t.id, t);
      throw e;
    }
    return { record, token: `torgo_${id}_${secret}` };
  }

  /** Revokes a token; revoking twice keeps the first revocation. Undefined if there is no such token. */
  async revoke(id: string, by: string): Promise<TokenRecord | undefined> {
    const record = this.tokens.get(id);
    if (!record) return undefined;
    if (record.revokedAt) return record;
    const revoked: TokenRecord = { ...record, revokedAt: new Date().toISOString(), revokedBy: by };
    this.tokens.set(id, revoked);
    try {
      await this.save();
    } catch (e) {
      this.tokens.set(id, record);
      throw e;
    }
    return revoked;
  }

  /** Writes the whole store; writes are serialised so the file always holds the latest state. */
  save(): Promise<void> {
    const snapshot: StoreFile = { version: 1, tokens: [...this.tokens.values()] };
    const write = this.writing.then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.tmp`;
      const handle = await open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(snapshot, null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.file);
    });
    this.writing = write.catch(() => undefined);
    return write;
  }
}
