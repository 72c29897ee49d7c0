'use strict';
// CPU profile of a process that cannot take --cpu-prof (NODE_OPTIONS refuses it), e.g. the contract's
// CCaaS server: NODE_OPTIONS="--require $PWD/dist/../bench/cpu-profile.cjs" TORGO_CPU_PROFILE_DIR=DIR.
// Sampling starts on SIGUSR2 (so start-up and warm-up stay out) and the profile is written to
// DIR/<pid>.cpuprofile on the next SIGUSR2, or on SIGTERM (then the process exits).
const { Session } = require('node:inspector');
const { mkdirSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const dir = process.env.TORGO_CPU_PROFILE_DIR || '.';
const session = new Session();
session.connect();
let running = false;

function post(method, params) {
  return new Promise((resolve, reject) =>
    session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))),
  );
}
async function stop() {
  if (!running) return;
  running = false;
  const { profile } = await post('Profiler.stop');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(profile));
}
process.on('SIGUSR2', async () => {
  if (running) return stop();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  running = true;
});
process.on('SIGTERM', () => stop().finally(() => process.exit(0)));
