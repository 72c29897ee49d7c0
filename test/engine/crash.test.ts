/**
 * Crash safety: a child process runs a submit loop and is killed with SIGKILL while transactions are in
 * flight; after reopening, every transaction it acknowledged is committed, valid and visible, nothing
 * partial exists (state, history and index equal a replay of the blocks), and the chain verifies.
 * Three rounds on the same directory, each killed at a different point.
 */
import './quiet-logs.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type { EmbeddedLedger } from '../../engine/index.js';
import { openKv, tempDir } from './helpers.js';

const child = fileURLToPath(new URL('./fixtures/crash-child.js', import.meta.url));

interface Ack {
  txId: string;
  key: string;
  value: string;
}

/** Run the child until it has acknowledged at least `killAfter` transactions, then SIGKILL it. */
function runAndKill(dir: string, round: number, killAfter: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child], {
      env: { ...process.env, TORGO_CRASH_DIR: dir, TORGO_CRASH_ROUND: String(round) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acks: Ack[] = [];
    let pending = '';
    let stderr = '';
    let killed = false;
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    proc.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? ''; // a line cut by the kill is not an acknowledgement
      for (const line of lines) {
        const [tag, txId = '', key = '', value = ''] = line.split(' ');
        if (tag === 'ACK') acks.push({ txId, key, value });
      }
      if (!killed && acks.length >= killAfter) {
        killed = true;
        proc.kill('SIGKILL');
      }
    });
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      if (signal === 'SIGKILL' && killed) resolve(acks);
      else reject(new Error(`child exited early (code ${code}, signal ${signal}):\n${stderr}`));
    });
  });
}

async function checkAcknowledged(ledger: EmbeddedLedger, acks: readonly Ack[]): Promise<void> {
  const reader = await ledger.createIdentity({ mspId: 'Org1MSP', name: 'checker' });
  for (const ack of acks) {
    const status = await ledger.getTransactionStatus(ack.txId);
    assert.equal(status?.validationCode, 'VALID', `acknowledged ${ack.txId} must be committed`);
    const block = await ledger.getBlock(status.blockNumber);
    assert.equal(block.transactions[status.txNumber]?.txId, ack.txId);
    assert.equal((await ledger.evaluate(reader, 'get', [ack.key])).result, ack.value);
  }
}

test('kill -9 mid-load: every acknowledged transaction survives and the chain verifies', async (t) => {
  const tmp = await tempDir(t);
  const all: Ack[] = [];
  let lastHeight = 0;
  for (const [round, killAfter] of [
    [1, 40],
    [2, 150],
    [3, 90 + Math.floor(Math.random() * 120)],
  ] as const) {
    const acks = await runAndKill(tmp.dir, round, killAfter);
    assert.ok(acks.length >= killAfter);
    all.push(...acks);

    const ledger = await openKv(tmp.dir);
    try {
      const report = await ledger.verifyChain();
      assert.ok(report.height > lastHeight, 'the chain grew');
      assert.ok(report.validTransactions >= all.length);
      lastHeight = report.height;
      await checkAcknowledged(ledger, all);
    } finally {
      await ledger.close();
    }
  }
});
