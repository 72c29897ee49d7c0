/**
 * The log builder against a block stream that fails the way a Fabric peer's does (`14 UNAVAILABLE:
 * Connection dropped` mid-stream, refusals while the peer is down), over a real LogStore on LevelDB.
 * The scripted source stands in for the network; everything else is the real builder and store.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { GatewayError } from '../../../gateway/errors.js';
import {
  type BlockSource,
  backoffDelay,
  type LogBlock,
  LogBuilder,
} from '../../../gateway/logbuilder/builder.js';
import { LogStore } from '../../../gateway/logbuilder/store.js';

const block = (number: number): LogBlock => ({ number, transactions: [] });

async function openStore(t: TestContext): Promise<LogStore> {
  const dir = await mkdtemp(join(tmpdir(), 'torgo-builder-'));
  const store = await LogStore.open(join(dir, 'tree'));
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function unavailable(): Error {
  return Object.assign(new Error('14 UNAVAILABLE: Connection dropped'), { code: 14 });
}

/**
 * A ledger of `height` blocks behind a switch: while up, a stream yields every block from `from`
 * then waits for more; `drop()` fails open streams; while down, opening a stream fails.
 */
class ScriptedLedger {
  height = 0;
  up = true;
  readonly opened: number[] = [];
  private readonly listeners = new Set<() => void>();

  grow(n = 1): void {
    this.height += n;
    this.notify();
  }
  drop(): void {
    this.up = false;
    this.notify();
  }
  restore(): void {
    this.up = true;
  }
  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  readonly source: BlockSource = async function* (this: ScriptedLedger, from: number, signal: AbortSignal) {
    this.opened.push(from);
    if (!this.up) throw unavailable();
    let next = from;
    while (!signal.aborted) {
      if (!this.up) throw unavailable();
      if (next < this.height) {
        yield block(next++);
        continue;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          this.listeners.delete(done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.listeners.add(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }.bind(this);
}

describe('log builder: reconnects, status, bounded waits', () => {
  it('backoff doubles from the initial delay to the cap, with jitter in [d/2, d)', () => {
    const at = (f: number, r: number) => backoffDelay(f, 100, 5000, () => r);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 50].map((f) => at(f, 0)),
      [50, 100, 200, 400, 800, 1600, 2500, 2500],
    );
    assert.equal(at(1, 0.999), 100);
    assert.equal(at(9, 0.999), 4998);
  });

  it('a stream dropped mid-way (UNAVAILABLE) is reopened from the stored next block, for as long as it takes', async (t) => {
    const store = await openStore(t);
    const ledger = new ScriptedLedger();
    const errors: string[] = [];
    const builder = new LogBuilder(store, ledger.source, {
      initialBackoffMs: 20,
      maxBackoffMs: 80,
      settleMs: 100,
      caughtUpTimeoutMs: 300,
      onError: (e) => errors.push(e.message),
      random: () => 0.5,
    });
    t.after(() => builder.stop());
    ledger.grow(3);
    builder.start();
    await builder.caughtUp(2);
    assert.equal(builder.status().state, 'following');

    ledger.drop();
    await until('reconnecting', () => builder.status().state === 'reconnecting');
    ledger.grow(2); // committed while the peer is away
    await until('several failed reconnects', () => builder.status().consecutiveFailures >= 4);
    const down = builder.status();
    assert.equal(down.nextBlock, 3);
    assert.match(down.lastError ?? '', /14 UNAVAILABLE/);
    assert.ok(down.stalledSince instanceof Date);

    // While down, a wait for the missing blocks is bounded and answers 503 E_UNAVAILABLE.
    const started = Date.now();
    await assert.rejects(builder.caughtUp(4), (e: unknown) => {
      assert.ok(e instanceof GatewayError);
      assert.equal(e.code, 'E_UNAVAILABLE');
      assert.equal(e.status, 503);
      assert.equal(e.details?.['reason'], 'LOG_RECONNECTING');
      assert.equal(e.details?.['nextBlock'], 3);
      assert.match(String(e.details?.['lastError']), /UNAVAILABLE/);
      return true;
    });
    assert.ok(Date.now() - started >= 250, 'it waited for the timeout');

    ledger.restore();
    await builder.caughtUp(4, 5000);
    const up = builder.status();
    assert.equal(up.state, 'following');
    assert.equal(up.nextBlock, 5);
    assert.equal(up.consecutiveFailures, 0);
    assert.ok(up.reconnects >= 4);
    assert.equal(up.stalledSince, undefined);
    assert.ok(errors.length >= 4);
    // Every reopen asked for the first block not yet stored: never a gap, never a repeat.
    assert.ok(ledger.opened.slice(1).every((from) => from === 3));
    // The earlier failure does not poison later waits (it used to throw forever).
    ledger.grow(1);
    await builder.caughtUp(5, 2000);
    assert.equal(store.nextBlock, 6);
  });

  it('a stream that ends, or skips a block, is reopened at the next block', async (t) => {
    const store = await openStore(t);
    const calls: number[] = [];
    const source: BlockSource = async function* (from, signal) {
      calls.push(from);
      if (calls.length === 1) {
        yield block(0);
        return; // ended without an error
      }
      if (calls.length === 2) {
        yield block(1);
        yield block(3); // gap: block 2 missing
        return;
      }
      for (let n = from; n < 5; n++) yield block(n);
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    };
    const builder = new LogBuilder(store, source, { initialBackoffMs: 5, maxBackoffMs: 10 });
    t.after(() => builder.stop());
    builder.start();
    await builder.caughtUp(4, 3000);
    assert.deepEqual(calls, [0, 1, 2]);
    assert.equal(builder.status().reconnects, 2);
    assert.match(builder.error?.message ?? '', /out of order/);
  });

  it('behind the ledger without progress is stalled; a log following a block behind is not', async (t) => {
    const store = await openStore(t);
    const ledger = new ScriptedLedger();
    const builder = new LogBuilder(store, ledger.source, { caughtUpTimeoutMs: 100 });
    ledger.grow(2);
    builder.start();
    await builder.caughtUp(1);
    builder.observeHeight(2);
    assert.equal(builder.status().lagBlocks, 0);
    assert.equal(builder.status().stalledSince, undefined);
    // The ledger says it has 4 blocks; this source will never deliver them.
    builder.observeHeight(4);
    const s = builder.status();
    assert.equal(s.state, 'following');
    assert.equal(s.lagBlocks, 2);
    assert.ok(s.stalledSince, 'behind since now');
    await assert.rejects(builder.caughtUp(3), (e: unknown) => {
      assert.ok(e instanceof GatewayError);
      assert.equal(e.details?.['reason'], 'LOG_BEHIND');
      return true;
    });
    ledger.grow(2);
    await builder.caughtUp(3);
    assert.equal(builder.status().stalledSince, undefined);
    // Stopping answers pending waits at once instead of leaving them hanging.
    const pending = builder.caughtUp(10, 60_000);
    await builder.stop();
    await assert.rejects(pending, (e: unknown) => e instanceof GatewayError && e.code === 'E_UNAVAILABLE');
    assert.equal(builder.status().state, 'stopped');
  });

  it('blocks arriving one by one share a store write: at most groupBlocks, at most holdMs apart', async (t) => {
    const store = await openStore(t);
    const writes: number[][] = [];
    const appendBlocks = store.appendBlocks.bind(store);
    store.appendBlocks = (blocks) => {
      writes.push(blocks.map((b) => b.number));
      return appendBlocks(blocks);
    };
    const ledger = new ScriptedLedger();
    const builder = new LogBuilder(store, ledger.source, { groupBlocks: 3, holdMs: 10_000 });
    t.after(() => builder.stop());
    builder.start();
    for (let i = 0; i < 6; i++) {
      ledger.grow(1);
      await new Promise((r) => setTimeout(r, 5));
    }
    await until('six blocks stored', () => store.nextBlock === 6);
    assert.deepEqual(writes, [
      [0, 1, 2],
      [3, 4, 5],
    ]);
    // A block with no successor waits at most holdMs.
    const quick = new LogBuilder(await openStore(t), ledger.source, { holdMs: 20 });
    t.after(() => quick.stop());
    quick.start();
    await until('held blocks written after the hold', () => quick.status().nextBlock === 6, 2000);
  });

  it('a reader waiting for a held block has it written at once', async (t) => {
    const store = await openStore(t);
    const ledger = new ScriptedLedger();
    const builder = new LogBuilder(store, ledger.source, { groupBlocks: 100, holdMs: 60_000 });
    t.after(() => builder.stop());
    builder.start();
    ledger.grow(2);
    await until('the blocks held', () => builder['heldUpTo'] === 2);
    assert.equal(store.nextBlock, 0, 'held, not written');
    await builder.caughtUp(1, 5000);
    assert.equal(store.nextBlock, 2);
    // One still to come is written as soon as it comes.
    const waiting = builder.caughtUp(2, 5000);
    ledger.grow(1);
    await waiting;
    assert.equal(store.nextBlock, 3);
  });

  it('with groupBlocks 1 every block is written on its own, at once', async (t) => {
    const store = await openStore(t);
    let writes = 0;
    const appendBlocks = store.appendBlocks.bind(store);
    store.appendBlocks = (blocks) => {
      writes++;
      assert.equal(blocks.length, 1);
      return appendBlocks(blocks);
    };
    const ledger = new ScriptedLedger();
    const builder = new LogBuilder(store, ledger.source, { groupBlocks: 1, holdMs: 60_000 });
    t.after(() => builder.stop());
    builder.start();
    ledger.grow(3);
    await until('three blocks stored', () => store.nextBlock === 3);
    assert.equal(writes, 3);
  });
});
