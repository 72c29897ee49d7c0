// Accounting probe for the steady suite (docs/performance.md §10, sixth round): preloaded into
// `torgo serve` with --import (bench/steady.ts `probeOut`), never part of the product. Between two
// SIGUSR2 it counts, per kind, the hand-offs of the main thread to other threads and back — async
// resources created (libuv pool work such as LevelDB's batch/get, timers, immediates), verification
// messages to the workers, checks verified inline —, the CPU of each event-loop wake by what woke it,
// and the CPU spent inside each wrapped step, then writes them as JSON to TORGO_PROBE_OUT. The wrapped
// steps run on the main thread; an async step is charged only up to its first await (noted by
// `…(sync part)` in its name). TORGO_PROBE_DIST: the dist/ whose classes it wraps.
import { createHook } from 'node:async_hooks';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const dist = process.env.TORGO_PROBE_DIST ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const out = process.env.TORGO_PROBE_OUT ?? 'probe.json';
const withPromises = process.env.TORGO_PROBE_PROMISES === '1';
/** Async resource types whose creation sites are counted too (TORGO_PROBE_SITES=Timeout,Immediate). */
const sites = new Set((process.env.TORGO_PROBE_SITES ?? '').split(',').filter(Boolean));
const load = (rel) => import(pathToFileURL(join(dist, rel)).href);

let on = false;
const counts = new Map();
const cpu = new Map();
/** Each wrapped call's CPU (µs), for the median and tail per step. */
const samples = new Map();
const count = (name, n = 1) => {
  if (on) counts.set(name, (counts.get(name) ?? 0) + n);
};
// CPU time in µs. process.threadCpuUsage (getrusage RUSAGE_THREAD) moves in whole scheduler ticks
// (4 ms on this VM), so around a step of 100 µs it reads 0 or a tick: a sample, not a measure. The
// process's (RUSAGE_SELF) is brought up to date at each call, so it is exact, but it includes what
// the process's other threads (LevelDB's, V8's) did meanwhile: an upper bound for the main thread.
const usNow = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
/** Wraps `proto[method]`: counts calls, and charges the CPU used inside it. */
function wrap(proto, method, name, extra) {
  const original = proto[method];
  if (typeof original !== 'function') throw new Error(`probe: no ${name}`);
  proto[method] = function (...args) {
    if (!on) return original.apply(this, args);
    count(name);
    extra?.(args);
    const t0 = usNow();
    try {
      return original.apply(this, args);
    } finally {
      const used = usNow() - t0;
      cpu.set(name, (cpu.get(name) ?? 0) + used);
      const list = samples.get(name) ?? [];
      if (list.length === 0) samples.set(name, list);
      list.push(used);
    }
  };
}

// Wakes: the CPU from one top-level callback to the next (the callback, then the ticks
// and promise reactions it set off, which run after it), charged to the kind of resource whose
// callback it was: what woke the event loop, and what that wake cost.
const types = new Map();
const wakes = new Map();
const wakeCpu = new Map();
let level = 0;
let current = '(start)';
let mark = 0;
const hook = createHook({
  before(id) {
    if (level++ > 0) return;
    const type = types.get(id) ?? '(unknown)';
    // Promise reactions and process.nextTick callbacks run after the callback that set them off: its wake.
    if (type === 'PROMISE' || type === 'TickObject') return;
    const now = usNow();
    wakeCpu.set(current, (wakeCpu.get(current) ?? 0) + now - mark);
    mark = now;
    current = type;
    wakes.set(current, (wakes.get(current) ?? 0) + 1);
  },
  after() {
    level = Math.max(0, level - 1);
  },
  init(id, type) {
    if (types.size > 200_000) types.clear();
    types.set(id, type);
    if (type === 'PROMISE' && !withPromises) return;
    count(`async:${type}`);
    if (sites.has(type)) {
      const frames = (new Error().stack ?? '').split('\n').slice(3, 9);
      const site = frames.find((f) => /dist\/(gateway|engine|core|chaincode)\//.test(f)) ?? frames[0] ?? '';
      count(
        `site:${type} ${site
          .trim()
          .replace(/^at /, '')
          .replace(/\(.*\/dist\//, '(')}`,
      );
    }
  },
});

const { VerifyPool } = await load('core/crypto/verify-pool.js');
wrap(VerifyPool.prototype, 'post', 'verify: message to a worker', (args) =>
  count('verify: checks sent to workers', args[1].length),
);
wrap(VerifyPool.prototype, 'verifyHere', 'verify: checks verified inline (call)', (args) =>
  count('verify: checks verified inline', args[0].length),
);
const { Committer } = await load('engine/committer.js');
wrap(Committer.prototype, 'commit', 'committer: block (sync part)', (args) =>
  count('committer: transactions', args[0].length),
);
const { LogStore } = await load('gateway/logbuilder/store.js');
wrap(LogStore.prototype, 'appendBlock', 'log: appendBlock (sync part)');
const { Checkpointer } = await load('gateway/logbuilder/checkpointer.js');
wrap(Checkpointer.prototype, 'doIssue', 'log: checkpoint issued (ML-DSA sign)');
const require = createRequire(join(dist, '..', 'package.json'));
const { ClassicLevel } = require('classic-level');
const bytesOf = (v) => (typeof v === 'string' ? Buffer.byteLength(v) : (v?.byteLength ?? 0));
wrap(ClassicLevel.prototype, '_batch', 'leveldb: array batch (submit)', (args) => {
  if (args[1]?.sync) count('leveldb: array batch with sync');
  count('leveldb: array batch ops', args[0].length);
  count(
    'leveldb: array batch bytes',
    args[0].reduce((n, op) => n + bytesOf(op.key) + bytesOf(op.value), 0),
  );
});
const chained = require('classic-level/chained-batch.js');
const ChainedBatch = chained.ChainedBatch ?? Object.values(chained)[0];
wrap(ChainedBatch.prototype, '_write', 'leveldb: chained batch write (submit)');
wrap(ChainedBatch.prototype, '_put', 'leveldb: chained batch put', (args) =>
  count('leveldb: chained batch bytes', bytesOf(args[0]) + bytesOf(args[1])),
);

function report() {
  const o = {
    counts: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])),
    cpuUs: Object.fromEntries([...cpu].sort((a, b) => b[1] - a[1])),
    processCpuUs: usNow() - startCpu,
    wakes: Object.fromEntries(wakes),
    wakeCpuUs: Object.fromEntries([...wakeCpu].sort((a, b) => b[1] - a[1])),
    quantilesUs: Object.fromEntries(
      [...samples].map(([name, list]) => {
        list.sort((a, b) => a - b);
        const q = (p) => list[Math.min(list.length - 1, Math.floor(p * list.length))];
        return [
          name,
          {
            p50: Math.round(q(0.5)),
            p90: Math.round(q(0.9)),
            p99: Math.round(q(0.99)),
            max: Math.round(list[list.length - 1]),
          },
        ];
      }),
    ),
  };
  writeFileSync(out, JSON.stringify(o, null, 1));
}
let startCpu = 0;
process.on('SIGUSR2', () => {
  if (!on) {
    counts.clear();
    cpu.clear();
    samples.clear();
    wakes.clear();
    wakeCpu.clear();
    startCpu = usNow();
    mark = startCpu;
    hook.enable();
    on = true;
  } else {
    on = false;
    hook.disable();
    report();
  }
});
