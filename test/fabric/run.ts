/**
 * `npm run test:fabric [-- --network raft|bft] [suite...]`: the integration suites on a live Fabric
 * network of their own.
 *
 * `--network raft` (the default): Fabric 2.5, one etcdraft orderer. `--network bft`: Fabric 3.1
 * (FABRIC_VERSION=3.1, binaries from FABRIC31_HOME, default /opt/fabric-3.1), four SmartBFT orderers
 * of two organisations; the BFT drills (bft-faults.fabric.ts) run only there.
 *
 * 1. network-config's install (raft) → down (leftovers) → up → deploy, into `.fabric/test-network`
 *    (bft: `.fabric/test-network-bft`) on ports moved by PORT_OFFSET (default 100; bft 200), so a
 *    developer's network on the default ports, or the other suite's, is untouched;
 * 2. `node --test` over dist/test/fabric/*.fabric.js, one file at a time (they share the network),
 *    with the gateway's default Fabric client (`@hyperledger/fabric-gateway`); then the API suite
 *    again with `network` (fabric-network 2.2, for networks without the peer Gateway service); the
 *    fault drills (*faults.fabric.js) last, so what they leave behind cannot fail another suite. The
 *    fault drills run with the gateway client every time (`.ci/run` included, since the gateway stall
 *    was fixed: docs/fabric.md); with the network client only on request
 *    (TORGO_FABRIC_NETWORK_FAULTS=1): it passes them in most runs, not every run, and CI must not
 *    depend on luck.
 *    TORGO_FABRIC_CLIENTS=gateway skips the network client altogether;
 * 3. down, always (TORGO_FABRIC_KEEP=1 keeps the network for a look afterwards).
 *
 * Exits with the test runner's status. Without Fabric's binaries (raft: on PATH; bft: in FABRIC31_HOME)
 * it prints one SKIPPED line and exits 0 (the `.ci/run` contract); TORGO_FABRIC_REQUIRED=1 makes that
 * a failure instead.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FailedTest } from './failures-reporter.js';
import { REPO } from './network.js';

/** `--network raft|bft` (anywhere in the arguments); the other arguments select suites by name. */
function parseArgs(argv: readonly string[]): { network: 'raft' | 'bft'; only: string[] } {
  const only: string[] = [];
  let network = 'raft';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--network') network = argv[++i] ?? '';
    else if (a.startsWith('--network=')) network = a.slice('--network='.length);
    else only.push(a);
  }
  if (network !== 'raft' && network !== 'bft')
    throw new Error(`--network ${network}: use raft (Fabric 2.5, the default) or bft (Fabric 3.1 SmartBFT)`);
  return { network, only };
}

const args = (() => {
  try {
    return parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`test:fabric: ${(e as Error).message}`);
    return process.exit(2);
  }
})();
const bft = args.network === 'bft';
const fabric31Home = process.env['FABRIC31_HOME'] ?? '/opt/fabric-3.1';

const env: NodeJS.ProcessEnv = {
  ...process.env,
  FABRIC_NETWORK_DIR:
    process.env['FABRIC_NETWORK_DIR'] ??
    path.join(REPO, '.fabric', bft ? 'test-network-bft' : 'test-network'),
  PORT_OFFSET: process.env['PORT_OFFSET'] ?? (bft ? '200' : '100'),
  FABRIC_VERSION: bft ? '3.1' : '2.5',
  CONSENSUS: bft ? 'bft' : 'raft',
  FABRIC31_HOME: fabric31Home,
};

/** What network-config/up.sh needs (its `need` line), node aside. */
const FABRIC_COMMANDS = [
  'peer',
  'orderer',
  'configtxgen',
  'osnadmin',
  'fabric-ca-server',
  'fabric-ca-client',
];

/**
 * The commands of FABRIC_COMMANDS the network scripts would not find: they look in Fabric's bin/ first
 * (lib.sh puts it before PATH: FABRIC31_HOME for bft, the repository's .fabric for raft), then on PATH.
 */
function missingCommands(fabricBin: string): string[] {
  const search = `PATH=${JSON.stringify(fabricBin)}:"$PATH"`;
  return FABRIC_COMMANDS.filter(
    (c) => spawnSync('bash', ['-c', `${search} command -v ${c}`], { stdio: 'ignore' }).status !== 0,
  );
}

function script(name: string): void {
  const started = Date.now();
  const r = spawnSync('bash', [path.join(REPO, 'network-config', `${name}.sh`)], {
    env,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`network-config/${name}.sh failed (exit ${r.status})`);
  console.log(`# fabric: ${name} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Failed tests of every run so far, with what the run was (repeated at the very end of the output). */
const failed: { run: string; test: FailedTest }[] = [];

async function runTests(files: string[], extra: NodeJS.ProcessEnv = {}): Promise<number> {
  const run = `${files.map((f) => path.basename(f)).join(', ')} ${JSON.stringify(extra)}`;
  console.log(`# fabric: ${run}`);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'torgo-fabric-report-'));
  const report = path.join(scratch, 'failures.jsonl');
  const reporter = path.join(REPO, 'dist', 'test', 'fabric', 'failures-reporter.js');
  const child = spawn(
    process.execPath,
    [
      '--test',
      '--test-concurrency=1',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${reporter}`,
      `--test-reporter-destination=${report}`,
      ...files,
    ],
    { env: { ...env, ...extra }, stdio: 'inherit', cwd: REPO },
  );
  const code = await new Promise<number>((resolve) =>
    child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))),
  );
  try {
    for (const line of readFileSync(report, 'utf8').split('\n'))
      if (line) failed.push({ run, test: JSON.parse(line) as FailedTest });
  } catch {
    // No report: the runner itself failed; its exit status says so.
  }
  rmSync(scratch, { recursive: true, force: true });
  return code;
}

/**
 * The failed tests again, last: CI shows only the tail of a run, and after a failure the nodes' logs
 * come before this. A test's own error and diagnostics; a suite that failed only through its
 * subtests is named without repeating them.
 */
function printFailures(): void {
  if (failed.length === 0) return;
  console.log(`# fabric: ${failed.length} failed (${args.network} network):`);
  for (const { run, test } of failed) {
    const where = `${test.file ? path.basename(test.file) : '?'} [${run.slice(run.indexOf('{'))}]`;
    if (test.subtestsFailed) {
      console.log(`#   suite ${where}: ${test.name}`);
      continue;
    }
    console.log(`#   FAILED ${where}: ${test.name}`);
    for (const l of test.message.slice(0, 1200).split('\n').slice(0, 6)) console.log(`#     ${l}`);
    for (const d of test.diagnostics.slice(0, 2)) console.log(`#     diagnostic: ${d.slice(0, 600)}`);
  }
}

/** On failure, the gateways' error log lines (the network directory is deleted afterwards; CI shows only output). */
function printGatewayErrors(): void {
  const logs = path.join(env['FABRIC_NETWORK_DIR']!, 'logs');
  let files: string[] = [];
  try {
    files = readdirSync(logs).filter((f) => f.startsWith('gateway-'));
  } catch {
    return;
  }
  for (const f of files) {
    const lines = readFileSync(path.join(logs, f), 'utf8')
      .split('\n')
      .filter((l) => /"level":(50|60)/.test(l));
    console.log(`# fabric: ${f}: ${lines.length} error line(s)${lines.length > 20 ? ', the last 20' : ''}`);
    for (const l of lines.slice(-20)) console.log(`#   ${l.slice(0, 2000)}`);
  }
}

/**
 * On failure, each orderer's and peer's last warnings and errors (ANSI colours removed; the broadcast
 * stream's "context canceled" lines, one per client that went away, left out): whether ordering or
 * block delivery stalled is in there, and the network directory is deleted afterwards.
 */
function printNodeWarnings(): void {
  const logs = path.join(env['FABRIC_NETWORK_DIR']!, 'logs');
  let files: string[] = [];
  try {
    files = readdirSync(logs).filter((f) => /^(orderer|peer)/.test(f));
  } catch {
    return;
  }
  for (const f of files.sort()) {
    const lines = readFileSync(path.join(logs, f), 'utf8')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes are what it removes.
      .replace(/\u001b\[[0-9;]*m/g, '')
      .split('\n')
      .filter((l) => / (WARN|ERRO|PANI) /.test(l) && !l.includes('Error reading from'));
    console.log(
      `# fabric: ${f}: ${lines.length} warning/error line(s)${lines.length > 15 ? ', the last 15' : ''}`,
    );
    for (const l of lines.slice(-15)) console.log(`#   ${l.slice(0, 600)}`);
  }
}

async function main(): Promise<number> {
  const fabricBin = bft ? path.join(fabric31Home, 'bin') : path.join(REPO, '.fabric', 'bin');
  const absent = missingCommands(fabricBin);
  const missing =
    absent.length > 0 &&
    (bft
      ? `no Fabric 3.1 ${absent.join(', ')} in ${fabricBin} or on PATH (set FABRIC31_HOME; docs/fabric.md, "Fabric 3.1")`
      : `no Fabric ${absent.join(', ')} on PATH (see docs/fabric.md)`);
  if (missing) {
    console.log(`SKIPPED: the ${args.network} Fabric suite: ${missing}`);
    return process.env['TORGO_FABRIC_REQUIRED'] === '1' ? 1 : 0;
  }
  const dir = path.join(REPO, 'dist', 'test', 'fabric');
  const only = args.only;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.fabric.js'))
    .filter((f) => bft || !f.startsWith('bft-'))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort()
    .map((f) => path.join(dir, f));
  if (files.length === 0) throw new Error(`no *.fabric.js suites in ${dir} matching ${only.join(' ')}`);
  console.log(`# fabric: ${args.network} network (Fabric ${env['FABRIC_VERSION']}, ${env['CONSENSUS']})`);
  if (!bft) script('install-fabric'); // Fabric 3.1 is built by hand, never by the project
  script('down');
  let status = 1;
  try {
    script('up');
    script('deploy');
    const clients = (process.env['TORGO_FABRIC_CLIENTS'] ?? 'gateway,network').split(',');
    status = 0;
    // The fault drills last, after every client's other suites: a drill restarts and kills nodes,
    // and what it leaves (a SmartBFT node still syncing, say) must not decide another suite's fate.
    const drills = files.filter((f) => f.endsWith('faults.fabric.js'));
    const others = files.filter((f) => !drills.includes(f));
    const runs = [
      ...clients.map((client) => ({ client, suites: others })),
      ...clients
        .filter((client) => client === 'gateway' || process.env['TORGO_FABRIC_NETWORK_FAULTS'] === '1')
        .map((client) => ({ client, suites: drills })),
    ];
    for (const { client, suites } of runs) {
      if (suites.length === 0) continue;
      const code = await runTests(suites, { TORGO_FABRIC_CLIENT: client });
      status ||= code;
    }
  } finally {
    if (status !== 0) {
      printGatewayErrors();
      printNodeWarnings();
    }
    if (process.env['TORGO_FABRIC_KEEP'] === '1')
      console.log(`# fabric: network kept in ${env['FABRIC_NETWORK_DIR']}`);
    else script('down');
    printFailures();
  }
  return status;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
