/**
 * TokenStore.authenticate against its plain definition: a token authenticates exactly when its id
 * names a live record whose stored `hash` equals `sha256:` + the lower-case hex SHA-256 of the secret
 * (the store compares digests in constant time; this holds it to the plain string comparison).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { type TokenRecord, TokenStore } from '../../gateway/auth/tokens.js';
import { tempDir } from './helpers.js';

const plainHash = (secret: string) => `sha256:${createHash('sha256').update(secret).digest('hex')}`;

/** The plain definition: a live record whose hash string is the secret's. */
function plainAuthenticate(records: readonly TokenRecord[], token: string): TokenRecord | undefined {
  const m = /^torgo_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/.exec(token);
  const record = m && records.find((r) => r.id === m[1]);
  return record && !record.revokedAt && record.hash === plainHash(m[2]!) ? record : undefined;
}

test('authenticate accepts exactly what the plain comparison of hash strings accepts', async (t) => {
  const dir = await tempDir(t);
  const { store } = await TokenStore.open(dir);
  const fields = { roles: ['appender'] as const, createdBy: 'test' };
  const live = await store.create({ ...fields, name: 'live', identity: 'a' });
  const revoked = await store.create({ ...fields, name: 'revoked', identity: 'b' });
  const upper = await store.create({ ...fields, name: 'upper', identity: 'c' });
  const bare = await store.create({ ...fields, name: 'bare', identity: 'd' });
  await store.revoke(revoked.record.id, 'test');
  // Stored hashes no secret can match (never written by the store, but a file can hold them).
  const file = JSON.parse(await readFile(store.file, 'utf8')) as { tokens: TokenRecord[] };
  for (const r of file.tokens) {
    if (r.id === upper.record.id)
      Object.assign(r, { hash: r.hash.toUpperCase().replace('SHA256', 'sha256') });
    if (r.id === bare.record.id) Object.assign(r, { hash: r.hash.slice('sha256:'.length) });
  }
  await writeFile(store.file, JSON.stringify(file));
  const reopened = (await TokenStore.open(dir)).store;
  const records = file.tokens;
  const written = [live, revoked, upper, bare].map((x) => store.get(x.record.id)!);

  const secretOf = (token: string) => token.slice(token.lastIndexOf('_') + 1);
  const other = `torgo_${'0'.repeat(16)}_${secretOf(live.token)}`;
  const swapped = `torgo_${live.record.id}_${secretOf(revoked.token)}`;
  const flipped = live.token.slice(0, -1) + (live.token.endsWith('A') ? 'B' : 'A');
  const cases = [live.token, revoked.token, upper.token, bare.token, other, swapped, flipped, 'torgo_x', ''];
  for (const token of cases) {
    for (const s of [store, reopened]) {
      const expected = plainAuthenticate(s === store ? written : records, token);
      assert.equal(s.authenticate(token)?.id, expected?.id, `token ${token.slice(0, 30)}…`);
    }
  }
  assert.equal(reopened.authenticate(live.token)?.id, live.record.id);
  assert.equal(reopened.authenticate(upper.token), undefined);
  assert.equal(reopened.authenticate(bare.token), undefined);
  assert.equal(reopened.authenticate(revoked.token), undefined);
  // The first store still holds the hashes it wrote: upper and bare are live there.
  assert.equal(store.authenticate(upper.token)?.id, upper.record.id);
});
