import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CommitHealth } from '../../gateway/ledger/commit-health.js';

it('commit health: transient submit failures make it not ok until a commit, or until they stop for clearAfterMs', () => {
  let now = 1_000_000;
  const h = new CommitHealth(30_000, () => now);
  assert.deepEqual(h.status(), { ok: true });
  h.failed('endorse', 'NOT_TRANSIENT', false);
  assert.deepEqual(
    h.status(),
    { ok: true },
    'a refusal that is not transient says nothing about availability',
  );
  h.failed('endorse', 'CHAINCODE_UNAVAILABLE', true);
  now += 1000;
  h.failed('submit', 'ORDERER_UNAVAILABLE', true);
  const s = h.status();
  assert.equal(s.ok, false);
  assert.equal(s.reason, 'ORDERER_UNAVAILABLE', 'the latest failure');
  assert.equal(s.since, new Date(1_000_000).toISOString(), 'since the first failure of the run');
  assert.equal(s.failures, 2);
  h.committed();
  assert.deepEqual(h.status(), { ok: true });
  h.failed('endorse', 'NO_ENDORSERS', true);
  now += 30_001;
  assert.deepEqual(h.status(), { ok: true }, 'nobody tried again for clearAfterMs');
});

it('commit health: a read conflict is a transaction that reached a block, so appends do commit', () => {
  let now = 1_000_000;
  const h = new CommitHealth(30_000, () => now);
  h.failed('commit', 'MVCC_READ_CONFLICT', true);
  assert.deepEqual(h.status(), { ok: true }, 'not an outage: it lost a race and is retried');
  h.failed('submit', 'ORDERER_UNAVAILABLE', true);
  assert.equal(h.status().ok, false);
  now += 1000;
  h.failed('commit', 'PHANTOM_READ_CONFLICT', true);
  assert.deepEqual(h.status(), { ok: true }, 'a block was committed since the orderer failed');
  h.failed('commit', 'COMMIT_STATUS_UNKNOWN', true);
  assert.equal(h.status().reason, 'COMMIT_STATUS_UNKNOWN', 'an unknown status is no proof of a commit');
});
