/**
 * The log builder alone, as the gateway drives it (issue 14 rows 3-4, issue 18 item 2): blocks of
 * format-2 receipt events (`entriesOf`, then `LogStore.appendBlock`), CPU µs per receipt by phase.
 * `node dist/bench/logbuilder-profile.js [perBlock=50] [receipts=5000]`; prints one JSON line.
 * Timing lives here, never in tests; run it alternately against two builds for an A/B.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { entriesOf, type LogBlock } from '../gateway/logbuilder/builder.js';
import { LogStore } from '../gateway/logbuilder/store.js';
import { receiptEntry } from './chains.js';

const enc = new TextEncoder();

function blocksOf(perBlock: number, total: number): LogBlock[] {
  const blocks: LogBlock[] = [];
  for (let b = 0, n = 0; n < total; b++) {
    const transactions = [];
    for (let i = 0; i < perBlock && n < total; i++, n++) {
      const { block: _block, ...entry } = receiptEntry(n, total, true);
      const payload = enc.encode(JSON.stringify({ logFormat: 2, entries: [entry] }));
      transactions.push({ txId: entry.txId, valid: true, event: { name: 'torgo.log', payload } });
    }
    blocks.push({ number: b, transactions });
  }
  return blocks;
}

const cpu = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
/** The main thread's CPU alone (what the gateway's event loop pays; LevelDB writes on libuv's pool). */
const mainCpu = (): number => {
  const u = process.threadCpuUsage();
  return u.user + u.system;
};

async function main(): Promise<void> {
  const perBlock = Number(process.argv[2] ?? 50);
  const total = Number(process.argv[3] ?? 5000);
  const blocks = blocksOf(perBlock, total);
  const dir = await mkdtemp(join(tmpdir(), 'torgo-logbuilder-'));
  try {
    const store = await LogStore.open(join(dir, 'tree'));
    let entries = 0;
    let append = 0;
    const main0 = mainCpu();
    const wall = performance.now();
    for (const block of blocks) {
      const t0 = cpu();
      const list = entriesOf(block);
      const t1 = cpu();
      await store.appendBlock(block.number, list);
      const t2 = cpu();
      entries += t1 - t0;
      append += t2 - t1;
    }
    const ms = performance.now() - wall;
    const mainThread = mainCpu() - main0;
    const root = Buffer.from(await store.root()).toString('hex');
    await store.close();
    const per = (us: number) => Math.round((us / total) * 10) / 10;
    console.log(
      JSON.stringify({
        perBlock,
        total,
        entriesUs: per(entries),
        appendUs: per(append),
        totalUs: per(entries + append),
        mainThreadUs: per(mainThread),
        wallMs: Math.round(ms),
        root,
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
