/**
 * Transport security cost: TLS handshakes with the hybrid post-quantum group X25519MLKEM768 next to
 * classical X25519 (and a bare TCP connect), and HTTP appends over HTTPS with each group next to plain
 * HTTP, all in one run against `torgo serve` child processes (one plain, one HTTPS with the
 * development certificate). Each handshake's group is checked, so no figure is mislabelled.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { privateKeyFromSeed, publicKeyToPem } from '../core/index.js';
import { createDevCertificates } from '../gateway/tls/devcert.js';
import { negotiatedGroup } from '../gateway/tls/groups.js';
import { drive, makeReceipts } from './engine.js';
import { cpuMsOf, type ServeChild, startServe, stopChild } from './http.js';
import { median, percentile, type Row, type Suite } from './harness.js';

const key = privateKeyFromSeed('ML-DSA-65', new Uint8Array(32).fill(9));

/** A client transport: plain HTTP, or HTTPS restricted to one key-exchange group. */
interface Mode {
  readonly name: string;
  readonly url: string;
  readonly group?: string;
  agent(keepAlive: boolean): http.Agent;
}

function send(
  mode: Mode,
  agent: http.Agent,
  route: string,
  token: string,
  body: string,
  type: string,
): Promise<{ status: number; text: string }> {
  const u = new URL(route, mode.url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': type,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const socket = res.socket as tls.TLSSocket;
        if (mode.group && socket.encrypted && negotiatedGroup(socket) !== mode.group) {
          reject(new Error(`${mode.name}: negotiated ${negotiatedGroup(socket)}`));
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** One full handshake (no resumption): ms to secureConnect, and the bytes both ways. */
function handshake(url: URL, ca: Buffer, group: string): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // Our own TCP socket, so the bytes on the wire (not TLS's plaintext counts) can be read.
    const raw = net.connect({ host: url.hostname, port: Number(url.port) });
    const socket = tls.connect({
      socket: raw,
      servername: 'localhost',
      ca,
      ecdhCurve: group,
      ALPNProtocols: ['http/1.1'],
    });
    socket.once('secureConnect', () => {
      const ms = performance.now() - t0;
      const got = negotiatedGroup(socket);
      const bytes = raw.bytesWritten + raw.bytesRead;
      socket.destroy();
      if (got !== group) reject(new Error(`handshake asked ${group}, negotiated ${got}`));
      else resolve({ ms, bytes });
    });
    socket.once('error', reject);
  });
}

function tcpConnect(url: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => {
      const ms = performance.now() - t0;
      socket.destroy();
      resolve(ms);
    });
    socket.once('error', reject);
  });
}

async function setup(mode: Mode): Promise<string> {
  const agent = mode.agent(true);
  try {
    const admin = (mode as Mode & { admin: string }).admin;
    const created = await send(
      mode,
      agent,
      '/v1/tokens',
      admin,
      JSON.stringify({ name: 'bench', roles: ['appender'] }),
      'application/json',
    );
    if (created.status !== 201) throw new Error(`token: ${created.status} ${created.text}`);
    const token = (JSON.parse(created.text) as { token: string }).token;
    const reg = await send(
      mode,
      agent,
      '/v1/keys',
      token,
      JSON.stringify({ publicKey: publicKeyToPem(key) }),
      'application/json',
    );
    if (reg.status !== 201 && reg.status !== 200) throw new Error(`key: ${reg.status} ${reg.text}`);
    return token;
  } finally {
    agent.destroy();
  }
}

export const tlsSuite: Suite = async ({ smoke }) => {
  const rows: Row[] = [];
  const runs = smoke ? 1 : 5;
  const handshakes = smoke ? 5 : 300;
  const dir = await mkdtemp(join(tmpdir(), 'torgo-bench-tls-'));
  const children: ServeChild[] = [];
  try {
    const certs = await createDevCertificates({ dir: join(dir, 'certs') });
    const ca = await readFile(certs.files[0]!);
    const plain = await startServe(join(dir, 'plain'), []);
    children.push(plain);
    const secure = await startServe(join(dir, 'secure'), [
      '--tls-cert',
      certs.files[2]!,
      '--tls-key',
      certs.files[3]!,
    ]);
    children.push(secure);
    const httpsMode = (group: string): Mode & { admin: string } => ({
      name: `HTTPS ${group}`,
      url: secure.url,
      group,
      admin: secure.admin,
      agent: (keepAlive) =>
        new https.Agent({ keepAlive, maxSockets: 128, ca, ecdhCurve: group, maxCachedSessions: 0 }),
    });
    const modes: (Mode & { admin: string })[] = [
      {
        name: 'HTTP',
        url: plain.url,
        admin: plain.admin,
        agent: (keepAlive) => new http.Agent({ keepAlive, maxSockets: 128 }),
      },
      httpsMode('X25519MLKEM768'),
      httpsMode('X25519'),
    ];

    // Handshakes: sequential full handshakes, alternating the groups run by run.
    const secureUrl = new URL(secure.url);
    const hs = new Map<
      string,
      { ms: number[]; p99: number[]; bytes: number; serverCpu: number[]; clientCpu: number[] }
    >();
    const tcp: number[] = [];
    for (let run = 0; run < runs; run++) {
      for (const group of ['X25519MLKEM768', 'X25519']) {
        await handshake(secureUrl, ca, group); // warm
        const times: number[] = [];
        let bytes = 0;
        const server0 = cpuMsOf(secure.child.pid);
        const client0 = process.cpuUsage();
        for (let i = 0; i < handshakes; i++) {
          const h = await handshake(secureUrl, ca, group);
          times.push(h.ms);
          bytes = h.bytes;
        }
        const client = process.cpuUsage(client0);
        const server1 = cpuMsOf(secure.child.pid);
        const entry = hs.get(group) ?? { ms: [], p99: [], bytes, serverCpu: [], clientCpu: [] };
        entry.ms.push(median(times));
        entry.p99.push(percentile(times, 99));
        entry.clientCpu.push((client.user + client.system) / 1000 / handshakes);
        if (server0 !== undefined && server1 !== undefined)
          entry.serverCpu.push((server1 - server0) / handshakes);
        hs.set(group, entry);
      }
      const times: number[] = [];
      for (let i = 0; i < handshakes; i++) times.push(await tcpConnect(secureUrl));
      tcp.push(median(times));
    }
    const hybrid = hs.get('X25519MLKEM768')!;
    const classical = hs.get('X25519')!;
    rows.push({
      suite: 'tls',
      name: 'TLS 1.3 full handshake, X25519MLKEM768 (client + server on this machine)',
      value: median(hybrid.ms),
      unit: 'ms',
      limit: { name: 'X25519', value: median(classical.ms) },
      note: `p99 ${median(hybrid.p99).toFixed(2)} ms; ${hybrid.bytes} bytes on the wire vs ${classical.bytes} (X25519)`,
    });
    if (hybrid.serverCpu.length > 0) {
      rows.push({
        suite: 'tls',
        name: 'gateway CPU per full handshake, X25519MLKEM768',
        value: median(hybrid.serverCpu),
        unit: 'ms',
        limit: { name: 'X25519', value: median(classical.serverCpu) },
        note: 'torgo serve process CPU time / handshakes (includes accepting the connection)',
      });
    }
    rows.push({
      suite: 'tls',
      name: 'client CPU per full handshake, X25519MLKEM768',
      value: median(hybrid.clientCpu),
      unit: 'ms',
      limit: { name: 'X25519', value: median(classical.clientCpu) },
      note: 'this process (Node 24 tls.connect, certificate verified)',
    });
    rows.push({
      suite: 'tls',
      name: 'TLS 1.3 full handshake, X25519',
      value: median(classical.ms),
      unit: 'ms',
      limit: { name: 'TCP connect alone', value: median(tcp) },
      note: `p99 ${median(classical.p99).toFixed(2)} ms`,
    });

    // Appends: keep-alive at c=1 and c=16, and a new connection per append at c=16.
    const tokens = new Map<string, string>();
    const byGateway = new Map<string, string>();
    for (const m of modes) {
      if (!byGateway.has(m.url)) byGateway.set(m.url, await setup(m));
      tokens.set(m.name, byGateway.get(m.url)!);
    }
    const scenarios = [
      { label: 'keep-alive, c=1', c: 1, keepAlive: true, n: smoke ? 10 : 300 },
      { label: 'keep-alive, c=16', c: 16, keepAlive: true, n: smoke ? 20 : 800 },
      { label: 'new connection per append, c=16', c: 16, keepAlive: false, n: smoke ? 20 : 800 },
    ];
    for (const s of scenarios) {
      const rates = new Map<string, number[]>();
      const p50s = new Map<string, number[]>();
      const cpus = new Map<string, number[]>();
      for (let run = 0; run < runs; run++) {
        for (const m of modes) {
          const agent = m.agent(s.keepAlive);
          const token = tokens.get(m.name)!;
          try {
            await drive(smoke ? 2 : 32, Math.min(8, s.c), () =>
              send(m, agent, '/v1/receipts', token, makeReceipts(1)[0]!, 'text/markdown'),
            );
            const receipts = makeReceipts(s.n);
            const pid = m.url === secure.url ? secure.child.pid : plain.child.pid;
            const cpu0 = cpuMsOf(pid);
            let failures = 0;
            const { latencies, elapsed } = await drive(s.n, s.c, async (i) => {
              const r = await send(m, agent, '/v1/receipts', token, receipts[i]!, 'text/markdown');
              if (r.status !== 201) failures++;
            });
            if (failures > 0) throw new Error(`${failures} appends failed (${m.name}, ${s.label})`);
            const cpu1 = cpuMsOf(pid);
            if (cpu0 !== undefined && cpu1 !== undefined)
              cpus.set(m.name, [...(cpus.get(m.name) ?? []), ((cpu1 - cpu0) * 1000) / s.n]);
            rates.set(m.name, [...(rates.get(m.name) ?? []), (s.n * 1000) / elapsed]);
            p50s.set(m.name, [...(p50s.get(m.name) ?? []), percentile(latencies, 50)]);
          } finally {
            agent.destroy();
          }
        }
      }
      const httpRate = median(rates.get('HTTP')!);
      for (const m of modes) {
        rows.push({
          suite: 'tls',
          name: `POST /v1/receipts over ${m.name}, ${s.label}`,
          value: median(rates.get(m.name)!),
          unit: 'receipts/s',
          ...(m.name === 'HTTP' ? {} : { limit: { name: 'plain HTTP', value: httpRate } }),
          note: `p50 ${median(p50s.get(m.name)!).toFixed(1)} ms`,
        });
      }
      const httpCpu = cpus.get('HTTP');
      for (const m of modes) {
        const c = cpus.get(m.name);
        if (!c || !httpCpu) continue;
        rows.push({
          suite: 'tls',
          name: `gateway CPU per append over ${m.name}, ${s.label}`,
          value: median(c),
          unit: 'µs/receipt',
          ...(m.name === 'HTTP' ? {} : { limit: { name: 'plain HTTP', value: median(httpCpu) } }),
          note: 'torgo serve process CPU time (all threads: HTTP, TLS, ML-DSA pre-verification, ledger)',
        });
      }
    }
  } finally {
    for (const c of children) await stopChild(c);
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
};
