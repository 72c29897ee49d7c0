/**
 * The gateway when parts of the ledger fail, on a real gateway (embedded ledger on LevelDB, real
 * HTTP): the log's block stream dropped with UNAVAILABLE (readiness 503 with the reason, checkpoint /
 * proof / export 503 + Retry-After instead of stale answers, recovery), and appends failing with
 * transient endorsement errors (retried within the budget, then 503, never 500). The faults are
 * injected where the network would produce them: into the block stream and the driver's submit,
 * as fabric-gateway's own error classes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { EndorseError } from '@hyperledger/fabric-gateway';
import { EmbeddedDriver } from '../../gateway/ledger/embedded/driver.js';
import { LedgerError } from '../../gateway/ledger/driver.js';
import { toLedgerError } from '../../gateway/ledger/fabric/errors.js';
import type { LogBlock } from '../../gateway/logbuilder/builder.js';
import { call, createToken, idOf, receipt, service, startTestGateway } from './helpers.js';

function unavailable(): Error {
  return Object.assign(new Error('14 UNAVAILABLE: Connection dropped'), { code: 14 });
}

/** The block stream behind a switch: `drop()` fails open streams and new ones until `restore()`. */
const fault = { down: false, kills: new Set<() => void>() };
const originalBlocks = EmbeddedDriver.prototype.blocks;
EmbeddedDriver.prototype.blocks = async function* (this: EmbeddedDriver, identity, from, signal) {
  if (fault.down) throw unavailable();
  const it = originalBlocks.call(this, identity, from, signal)[Symbol.asyncIterator]();
  let kill!: () => void;
  const killed = new Promise<'killed'>((resolve) => {
    kill = () => resolve('killed');
  });
  fault.kills.add(kill);
  try {
    for (;;) {
      const r: IteratorResult<LogBlock> | 'killed' = await Promise.race([it.next(), killed]);
      if (r === 'killed') throw unavailable();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    fault.kills.delete(kill);
    void it.return?.(undefined);
  }
};
function drop(): void {
  fault.down = true;
  for (const k of fault.kills) k();
}

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function metric(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

describe('gateway resilience on a real gateway', () => {
  it('a dropped block stream: readiness says why, log answers 503 (never stale), then recovers', async (t) => {
    const { url, admin } = await startTestGateway(t, {
      'transparency.catchUpTimeoutMs': 300,
      'transparency.reconnectMaxBackoffMs': 200,
    });
    const { token, key } = await service(url, admin);
    const auditor = token;
    const r1 = receipt([key]);
    assert.equal((await call(url, 'POST', '/v1/receipts', { token, raw: r1 })).status, 201);

    const ready = await until(
      'log caught up',
      () => call(url, 'GET', '/readyz'),
      (r) => r.status === 200 && r.json.details.log.lagBlocks === 0,
    );
    assert.equal(ready.json.status, 'ready');
    assert.equal(ready.json.ledger, 'embedded');
    assert.equal(typeof ready.json.height, 'number');
    assert.deepEqual(ready.json.details.ledger, { ok: true });
    assert.equal(ready.json.details.log.state, 'following');
    assert.equal(ready.json.details.log.nextBlock, ready.json.height);

    drop();
    const down = await until(
      'readiness 503',
      () => call(url, 'GET', '/readyz'),
      (r) => r.status === 503,
    );
    assert.equal(down.json.code, 'E_UNAVAILABLE');
    assert.match(down.json.message, /transparency log is reconnecting/);
    assert.equal(down.json.details.ledger.ok, true);
    assert.equal(down.json.details.log.state, 'reconnecting');
    assert.match(down.json.details.log.lastError, /14 UNAVAILABLE/);
    assert.ok(down.headers.get('retry-after'));

    // Acknowledged while the log is away: the ledger still takes appends.
    const r2 = receipt([key]);
    assert.equal((await call(url, 'POST', '/v1/receipts', { token, raw: r2 })).status, 201);
    for (const [method, route] of [
      ['POST', '/v1/checkpoint'],
      ['GET', `/v1/receipts/${idOf(r2)}/proof`],
      ['GET', '/v1/export?source=icu-relay-3'],
    ] as const) {
      const r = await call(url, method, route, { token: method === 'POST' ? admin : auditor });
      assert.equal(r.status, 503, `${method} ${route}: ${r.text}`);
      assert.equal(r.json.code, 'E_UNAVAILABLE');
      assert.equal(r.json.details.reason, 'LOG_RECONNECTING');
      assert.ok(r.headers.get('retry-after'), `${route}: Retry-After`);
    }
    const stalled = (await call(url, 'GET', '/metrics')).text;
    assert.equal(metric(stalled, 'torgo_log_stalled'), 1);
    assert.ok((metric(stalled, 'torgo_log_reconnects_total') ?? 0) >= 1);
    assert.ok((metric(stalled, 'torgo_log_lag_blocks') ?? 0) >= 1);
    assert.ok(
      (metric(stalled, 'torgo_ledger_block_height') ?? 0) > (metric(stalled, 'torgo_log_next_block') ?? 0),
    );

    fault.down = false;
    const back = await until(
      'readiness 200 again',
      () => call(url, 'GET', '/readyz'),
      (r) => r.status === 200 && r.json.details.log.lagBlocks === 0,
    );
    assert.ok(back.json.details.log.reconnects >= 1);
    const c = await call(url, 'POST', '/v1/checkpoint', { token: admin });
    assert.equal(c.status, 200, c.text);
    assert.equal(c.json.size, 3, 'the key and both receipts, r2 included');
    const p = await call(url, 'GET', `/v1/receipts/${idOf(r2)}/proof`, { token: auditor });
    assert.equal(p.status, 200, p.text);
    const after = (await call(url, 'GET', '/metrics')).text;
    assert.equal(metric(after, 'torgo_log_stalled'), 0);
    assert.ok((metric(after, 'torgo_ledger_commit_duration_seconds_count{fcn="appendReceipt"}') ?? 0) >= 2);
  });

  it('transient endorsement failures are retried within the budget, then 503 with stage and reason', async (t) => {
    const { url, admin, gw } = await startTestGateway(t, { 'limits.retryBudgetMs': 600 });
    const { token, key } = await service(url, admin);
    const driver = gw.service.driver as EmbeddedDriver;
    const submit = driver.submit.bind(driver);
    let failures = 0;
    let appends = 0;
    driver.submit = async (who, fcn, args) => {
      if (fcn.startsWith('append')) {
        appends++;
        if (failures-- > 0) {
          const message = 'no combination of peers can be derived which satisfy the endorsement policy';
          const cause = Object.assign(new Error(`9 FAILED_PRECONDITION: ${message}`), {
            code: grpc.status.FAILED_PRECONDITION,
            details: message,
            metadata: new grpc.Metadata(),
          });
          throw toLedgerError(
            new EndorseError({
              code: cause.code,
              details: [],
              cause,
              transactionId: 'tx',
              message: cause.message,
            }),
          );
        }
      }
      return submit(who, fcn, args);
    };

    failures = 2;
    const ok = await call(url, 'POST', '/v1/receipts', { token, raw: receipt([key]) });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(appends, 3, 'two failures, then the retry that committed');

    failures = Number.POSITIVE_INFINITY;
    appends = 0;
    const started = Date.now();
    const refused = await call(url, 'POST', '/v1/receipts', { token, raw: receipt([key]) });
    const took = Date.now() - started;
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.json.code, 'E_UNAVAILABLE');
    assert.equal(refused.json.details.stage, 'endorse');
    assert.equal(refused.json.details.reason, 'NO_ENDORSERS');
    assert.ok(refused.json.details.attempts > 1);
    assert.equal(refused.json.details.attempts, appends);
    assert.ok(refused.headers.get('retry-after'));
    // Each retry waits at least half its backoff step (50 ms doubling, jitter in [d/2, d)); the budget
    // bounds the whole (600 ms, plus the last attempt and the HTTP round trip).
    const leastWaits = Array.from({ length: appends - 1 }, (_, k) => Math.min(500, 25 * 2 ** k)).reduce(
      (a, b) => a + b,
      0,
    );
    assert.ok(
      took >= leastWaits && took < 3000,
      `retried for ${took} ms (at least ${leastWaits}), within the budget`,
    );

    // A contract refusal is an answer, not a failure: not retried, same code as ever.
    failures = 0;
    const mu = receipt([key]);
    assert.equal((await call(url, 'POST', '/v1/receipts', { token, raw: mu })).status, 201);
    appends = 0;
    const other = receipt([key], { id: idOf(mu) });
    const conflict = await call(url, 'POST', '/v1/receipts', { token, raw: other });
    assert.equal(conflict.status, 409, conflict.text);
    assert.equal(conflict.json.code, 'E_RECEIPT_CONFLICT');
    assert.equal(appends, 1);

    const m = (await call(url, 'GET', '/metrics')).text;
    assert.ok((metric(m, 'torgo_ledger_errors_total{stage="endorse",reason="NO_ENDORSERS"}') ?? 0) >= 3);
  });
  it('an append whose commit status stays unknown is resent (idempotent), then answered 503 + Retry-After, never 504', async (t) => {
    const { url, admin, gw } = await startTestGateway(t, { 'limits.retryBudgetMs': 400 });
    const { token, key } = await service(url, admin);
    const auditor = await createToken(url, admin, 'aud', ['auditor']);
    const driver = gw.service.driver as EmbeddedDriver;
    const submit = driver.submit.bind(driver);
    let lose = 0;
    driver.submit = async (who, fcn, args) => {
      const committed = await submit(who, fcn, args);
      // The transaction committed, but its status never reached the gateway (the orderer went away).
      if (fcn.startsWith('append') && lose-- > 0)
        throw new LedgerError('commit-status', `the commit status of ${committed.txId} is unknown`, {
          txId: committed.txId,
          retryable: true,
          reason: 'COMMIT_STATUS_UNKNOWN',
        });
      return committed;
    };

    lose = 1;
    const mu = receipt([key]);
    const once = await call(url, 'POST', '/v1/receipts', { token, raw: mu });
    assert.equal(once.status, 200, `the resend finds it committed: ${once.text}`);
    assert.equal(once.json.id, idOf(mu));

    lose = Number.POSITIVE_INFINITY;
    const lost = receipt([key]);
    const r = await call(url, 'POST', '/v1/receipts', { token, raw: lost });
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.code, 'E_UNAVAILABLE');
    assert.equal(r.json.details.reason, 'COMMIT_STATUS_UNKNOWN');
    assert.ok(r.headers.get('retry-after'));
    lose = 0;
    assert.equal((await call(url, 'GET', `/v1/receipts/${idOf(lost)}`, { token: auditor })).status, 200);
    const again = await call(url, 'POST', '/v1/receipts', { token, raw: lost });
    assert.equal(again.status, 200, 'the client resends and is told it is there');
  });

  it("a repeat whose original's block this gateway's peer does not have yet: looked up again, else 503 BLOCK_NOT_VISIBLE, never 504", async (t) => {
    const { url, admin, gw } = await startTestGateway(t, { 'limits.retryBudgetMs': 400 });
    const { token, key } = await service(url, admin);
    const driver = gw.service.driver as EmbeddedDriver;
    const blockOf = driver.blockOf.bind(driver);
    // Another organisation's peer endorsed the repeat; this gateway's own peer lags `behind` lookups.
    let behind = 0;
    let lookups = 0;
    driver.blockOf = async (who, txId) => {
      lookups++;
      return behind-- > 0 ? undefined : blockOf(who, txId);
    };
    const mu = receipt([key]);
    const first = await call(url, 'POST', '/v1/receipts', { token, raw: mu });
    assert.equal(first.status, 201, first.text);

    behind = 2;
    lookups = 0;
    const repeat = await call(url, 'POST', '/v1/receipts', { token, raw: mu });
    assert.equal(repeat.status, 200, `found once the peer caught up: ${repeat.text}`);
    assert.equal(repeat.json.block, first.json.block);
    assert.equal(lookups, 3, 'two misses, then the block');

    behind = Number.POSITIVE_INFINITY;
    const r = await call(url, 'POST', '/v1/receipts', { token, raw: mu });
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.code, 'E_UNAVAILABLE');
    assert.equal(r.json.details.reason, 'BLOCK_NOT_VISIBLE');
    assert.equal(r.headers.get('retry-after'), '1');
    behind = 0;
    const again = await call(url, 'POST', '/v1/receipts', { token, raw: mu });
    assert.equal(again.status, 200, 'the client resends and is told where it is');
  });
});
