/**
 * Where an embedded append's main-thread time goes: one append scenario under the V8 sampling
 * profiler (node:inspector, started after warm-up and stopped when the timed region ends), saved
 * as a .cpuprofile (open it in Chrome DevTools or speedscope) and summarised by phase.
 *
 *   npm run build && npx node dist/bench/profile.js [--batch 50] [--concurrency 4] [--receipts 5000]
 *     [--workers N] [--precheck worker|thread|none] [--out bench/results/append.cpuprofile]
 *
 * `--batch 1` profiles appendReceipt; `--workers 0` keeps signature checks on the main thread (as
 * before the verification pool); `--precheck` (default `worker`, the embedded gateway's way) as
 * bench/engine.ts `PreCheck` (`--workers` applies to `none` only). Phases are attributed by the first matching frame from the top of
 * each sample's stack; the µs per receipt include the profiler's own overhead (~1.5× here), so
 * compare them with each other, not with `npm run bench`.
 */
import './quiet-logs.js';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pooledMlDsa } from '../core/crypto/verify-pool.js';
import { appendCalls, drive, openBenchLedger, type PreCheck } from './engine.js';
import { signedReceipts } from './receipts.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  startTime: number;
  endTime: number;
}

/** Phase of a sample: the first of these (in this order) found anywhere on its stack. */
const PHASES: [string, RegExp][] = [
  ['ML-DSA verify (OpenSSL, main thread)', /^verifyOneShot /],
  ['logging (winston)', /winston|logform|DerivedLogger/],
  ['creator certificate (ClientIdentity)', /^ClientIdentity .*fabric-shim/],
  ['public key import', /^importPublicKey /],
  ['receipt parse (core)', /^parseReceipt /],
  ['memo keys (SHA-256 of the verified tuple)', /^key .*verify-memo/],
  [
    'pre-check: gateway preVerify, pool messages, hand-over',
    /^(preVerify|checkOffThread|checkHere|signerKeyIdHints|give|take|flush|post|settle) |messageport|worker_threads/,
  ],
  ['block: serialise + hash', /^(sealBlock|buildBlock|encodeBlock) /],
  // The array batch (abstract-level), or the chained batch the committer fills (storage.ts `writeOps`).
  ['LevelDB write (batch)', /^batch .*abstract-level|^writeOps /],
  ['MVCC validation', /^validate .*engine\/validator/],
  ['commit: history, args hash, rest', /^commit .*engine\/committer/],
  [
    'contract state JSON (records, events)',
    /^(putJson|getJson|emitAppended|jsonBytes|jsonBytesWithUtf8|recordBytes) /,
  ],
  ['dispatcher: parameters (fabric-shim)', /^(handleParameters|_fromString|toWireBuffer) /],
  ['dispatcher: rest (fabric-shim)', /^(Invoke|invokeFunctionality) .*fabric-shim/],
  ['endorse: rest (engine)', /^endorse .*engine\/ledger/],
  ['garbage collector', /^\(garbage collector\)/],
  ['idle (waiting: fsync, workers)', /^\(idle\)/],
];

export function phases(
  profile: Profile,
  receipts: number,
): { phase: string; share: number; usPerReceipt: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url}`;
  const counts = new Map<string, number>();
  for (const sample of profile.samples) {
    const stack: string[] = [];
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id))
      stack.push(name(byId.get(id)!));
    const phase = PHASES.find(([, re]) => stack.some((f) => re.test(f)))?.[0] ?? 'other';
    counts.set(phase, (counts.get(phase) ?? 0) + 1);
  }
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([phase, n]) => ({
      phase,
      share: n / profile.samples.length,
      usPerReceipt: (seconds * 1e6 * n) / profile.samples.length / receipts,
    }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      batch: { type: 'string', default: '50' },
      concurrency: { type: 'string', default: '4' },
      receipts: { type: 'string', default: '5000' },
      workers: { type: 'string' },
      precheck: { type: 'string', default: 'worker' },
      out: {
        type: 'string',
        default: join(import.meta.dirname, '..', '..', 'bench', 'results', 'append.cpuprofile'),
      },
    },
  });
  const batch = Number(values.batch);
  const concurrency = Number(values.concurrency);
  const total = Number(values.receipts);
  const preCheck = values.precheck as PreCheck;
  const mlDsa =
    values.workers === undefined || preCheck !== 'none'
      ? undefined
      : pooledMlDsa({ memo: false, workers: Number(values.workers) });
  const { append, close } = await openBenchLedger({ preCheck, ...(mlDsa ? { mlDsa } : {}) });
  try {
    const warm = appendCalls(await signedReceipts(400), 1);
    await drive(warm.length, 16, (i) => append(warm[i]!));
    const calls = appendCalls(await signedReceipts(total), batch);
    const fcn = batch === 1 ? 'appendReceipt' : 'appendReceipts';
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    const started = performance.now();
    await drive(calls.length, concurrency, (i) => append(calls[i]!));
    const ms = performance.now() - started;
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
    session.disconnect();
    writeFileSync(values.out, JSON.stringify(profile));
    process.stdout.write(
      `${fcn}, batch ${batch}, c=${concurrency}, pre-check ${preCheck}: ${((total * 1000) / ms).toFixed(0)} receipts/s under the profiler; ${values.out}\n\n`,
    );
    for (const p of phases(profile, total)) {
      process.stdout.write(
        `${(100 * p.share).toFixed(1).padStart(5)}%  ${p.usPerReceipt.toFixed(0).padStart(5)} µs/receipt  ${p.phase}\n`,
      );
    }
  } finally {
    await close();
  }
}
