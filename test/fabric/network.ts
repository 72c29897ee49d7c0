/**
 * The live Fabric network of `npm run test:fabric` (brought up by run.ts through network-config) and
 * what the suites do with it: start, stop and kill its nodes (network-config/node.sh), run TORGO
 * gateways as real processes on the written gateway-<org>.json configs, and drive them over HTTP.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, rmSync } from 'node:fs';
import { request } from 'node:https';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { call } from '../gateway/helpers.js';

const exec = promisify(execFile);

/** The repository (this file runs from dist/test/fabric/). */
export const REPO = path.resolve(import.meta.dirname, '..', '..', '..');

export function networkDir(): string {
  const dir = process.env['FABRIC_NETWORK_DIR'];
  if (!dir)
    throw new Error('FABRIC_NETWORK_DIR is not set: run the Fabric suites with `npm run test:fabric`');
  return dir;
}

export interface OrgConnection {
  readonly name: string;
  readonly mspId: string;
  readonly peer: { endpoint: string; tlsCaCert: string; hostAlias: string };
  readonly wallet: string;
  readonly gatewayConfig: string;
}

export interface OrdererConnection {
  readonly name: string;
  /** The organisation's directory under organizations/ (orderer, orderer2). */
  readonly org: string;
  readonly mspId: string;
  readonly endpoint: string;
  /** The channel participation API (osnadmin), client TLS with the org admin's certificate. */
  readonly adminEndpoint: string;
  /** The operations service (plain HTTP): /healthz and Prometheus /metrics. */
  readonly operationsEndpoint: string;
  readonly tlsCaCert: string;
}

export interface Connection {
  readonly channel: string;
  readonly chaincode: string;
  readonly consensus: 'raft' | 'bft';
  readonly orderers: readonly OrdererConnection[];
  readonly organizations: readonly OrgConnection[];
}

export async function connection(): Promise<Connection> {
  return JSON.parse(await readFile(path.join(networkDir(), 'connection.json'), 'utf8')) as Connection;
}

/** `network-config/node.sh <verb> <name>`: start, stop, kill (-9) or restart one node. */
export async function node(verb: 'start' | 'stop' | 'kill' | 'restart', name: string): Promise<void> {
  await exec('bash', [path.join(REPO, 'network-config', 'node.sh'), verb, name], {
    env: process.env,
    timeout: 60_000,
  });
}

/**
 * The channel's height on one orderer, from its channel participation API (what `osnadmin channel
 * info` shows), as its organisation's admin.
 */
export async function ordererHeight(o: OrdererConnection, channel: string): Promise<number> {
  const tls = path.join(networkDir(), 'organizations', o.org, 'users', 'admin', 'tls');
  const [ca, cert, key] = await Promise.all(
    [o.tlsCaCert, path.join(tls, 'server.crt'), path.join(tls, 'server.key')].map((f) => readFile(f)),
  );
  const [host, port] = o.adminEndpoint.split(':');
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port),
        path: `/participation/v1/channels/${channel}`,
        ca,
        cert,
        key,
        timeout: 5_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () =>
          res.statusCode === 200 ? resolve(text) : reject(new Error(`${o.name}: ${res.statusCode} ${text}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${o.name}: no answer from ${o.adminEndpoint}`)));
    req.on('error', reject);
    req.end();
  });
  const info = JSON.parse(body) as { height?: number };
  if (typeof info.height !== 'number') throw new Error(`${o.name}: no height in ${body}`);
  return info.height;
}

/** What a SmartBFT orderer says of its view (its Prometheus metrics, `consensus_smartbft_*`). */
export interface SmartBftView {
  /** The view it runs (`view_number`) and that view's leader (`view_leader_id`, a consenter ID). */
  readonly view: number;
  readonly leader: number;
  /** The view-change protocol's current and next view (`viewchange_current_view`, `viewchange_next_view`). */
  readonly viewChangeCurrent: number;
  readonly viewChangeNext: number;
}

/** One orderer's SmartBFT view, from its operations endpoint's /metrics (ORDERER_METRICS_PROVIDER=prometheus). */
export async function smartBftView(o: OrdererConnection, channel: string): Promise<SmartBftView> {
  const res = await fetch(`http://${o.operationsEndpoint}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`${o.name}: /metrics answered ${res.status}`);
  const text = await res.text();
  const metric = (name: string): number => {
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`consensus_smartbft_${name}{`) && l.includes(`channel="${channel}"`));
    const value = Number(line?.slice(line.lastIndexOf(' ') + 1));
    if (!line || !Number.isFinite(value))
      throw new Error(`${o.name}: no consensus_smartbft_${name} for ${channel}`);
    return value;
  };
  return {
    view: metric('view_number'),
    leader: metric('view_leader_id'),
    viewChangeCurrent: metric('viewchange_current_view'),
    viewChangeNext: metric('viewchange_next_view'),
  };
}

/** Every receipt id of a source, following the query's cursors page by page (each page must be 200). */
export async function idsOfSource(
  url: string,
  token: string,
  source: string,
  limit = 100,
): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof call>> = await call(
      url,
      'GET',
      `/v1/receipts?source=${encodeURIComponent(source)}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { token },
    );
    if (page.status !== 200) throw new Error(`query of ${source}: ${page.status} ${page.text}`);
    ids.push(...(page.json.receipts as { id: string }[]).map((r) => r.id));
    cursor = page.json.nextCursor;
  } while (cursor);
  return ids;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value other than undefined, or throws after `ms`. */
export async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(250);
  }
}

/**
 * One organisation's TORGO gateway as a real process (`torgo serve --config gateway-<org>.json`),
 * so tests can kill -9 it. Its data directory survives restarts; the first start's admin token is
 * written to a file (0600) and kept.
 */
/**
 * Gateways this process started and that have not exited: killed when it exits, however it exits (a
 * cancelled suite skips its `after` hooks). Each also has a pid file in the network's pids/, so
 * network-config/down.sh stops one that outlived its test process (killed, say) before the next run,
 * whose gateway on the same port it would otherwise answer for.
 */
const liveGateways = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveGateways) child.kill('SIGKILL');
});

export class GatewayProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  admin = '';

  private constructor(
    readonly org: string,
    readonly configFile: string,
    readonly url: string,
    readonly dataDir: string,
  ) {}

  static async create(org: string): Promise<GatewayProcess> {
    const configFile = path.join(networkDir(), `gateway-${org}.json`);
    const config = JSON.parse(await readFile(configFile, 'utf8')) as { port: number; dataDir: string };
    await rm(config.dataDir, { recursive: true, force: true });
    return new GatewayProcess(org, configFile, `http://127.0.0.1:${config.port}`, config.dataDir);
  }

  private get tokenFile(): string {
    return `${this.dataDir}.admin-token`;
  }

  /** Starts the process (with `env` added to the environment) and waits until it answers /healthz. */
  async start(env: NodeJS.ProcessEnv = {}): Promise<void> {
    if (this.child) throw new Error(`gateway ${this.org} is already running`);
    // Another process answering on this port would pass for this one (and the suite would read
    // another run's admin token): refuse at once.
    const squatter = await call(this.url, 'GET', '/healthz').then(
      (r) => `answers ${r.status}`,
      () => undefined,
    );
    if (squatter)
      throw new Error(
        `${this.url} ${squatter} before gateway ${this.org} started: a gateway left from another run?`,
      );
    const first = this.admin === '';
    if (first) await rm(this.tokenFile, { force: true });
    const args = [path.join(REPO, 'bin', 'torgo.js'), 'serve', '--config', this.configFile];
    if (first) args.push('--admin-token-file', this.tokenFile);
    const logFile = createWriteStream(path.join(networkDir(), 'logs', `gateway-${this.org}.log`), {
      flags: 'a',
    });
    const child = spawn(process.execPath, args, {
      cwd: REPO,
      env: { ...process.env, TORGO_LOG_LEVEL: process.env['TORGO_LOG_LEVEL'] ?? 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(logFile);
    child.stderr.pipe(logFile);
    this.child = child;
    liveGateways.add(child);
    const pidFile = path.join(networkDir(), 'pids', `gateway-${this.org}.pid`);
    await writeFile(pidFile, `${child.pid}\n`);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => {
      liveGateways.delete(child);
      rmSync(pidFile, { force: true });
      if (this.child === child) this.child = undefined;
    });
    await until(`gateway ${this.org} to answer /healthz`, 120_000, async () => {
      if (!this.child) throw new Error(`gateway ${this.org} exited; see logs/gateway-${this.org}.log`);
      return (await call(this.url, 'GET', '/healthz')).status === 200 ? true : undefined;
    });
    if (first) this.admin = (await readFile(this.tokenFile, 'utf8')).trim();
  }

  /** SIGTERM: graceful shutdown. */
  async stop(): Promise<void> {
    this.child?.kill('SIGTERM');
    await this.exited;
  }

  /** kill -9. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Waits until /readyz answers 200 (ledger reachable, log following). */
  async ready(ms = 60_000): Promise<void> {
    await until(`gateway ${this.org} to be ready`, ms, async () =>
      (await call(this.url, 'GET', '/readyz')).status === 200 ? true : undefined,
    );
  }
}
