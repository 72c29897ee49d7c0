/**
 * Gateway test set-up: a real gateway (embedded ledger on real LevelDB in a temp dir) listening on a
 * random 127.0.0.1 port, always stopped and removed after the test; tokens; signed receipts.
 */
import '../engine/quiet-logs.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import {
  createReceiptText,
  generatePrivateKey,
  newUlid,
  type PrivateKey,
  parseReceipt,
  publicKeyToPem,
  type ReceiptDocument,
  signReceipt,
} from '../../core/index.js';
import { loadConfig } from '../../gateway/config.js';
import { type RunningGateway, type ServeOptions, startGateway } from '../../gateway/server.js';

/** A 127.0.0.1 port that was free a moment ago (nothing listens on it now). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function tempDir(t: TestContext, prefix = 'torgo-gateway-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestGateway {
  readonly gw: RunningGateway;
  readonly url: string;
  readonly dir: string;
  readonly admin: string;
}

/** Starts a gateway on a fresh data dir (or `dir`); stopped after the test. */
export async function startTestGateway(
  t: TestContext,
  overrides: Record<string, string | number | boolean> = {},
  dir?: string,
  options: Pick<ServeOptions, 'bootstrapAdmin' | 'logOperatorTokenFile'> = {},
): Promise<TestGateway> {
  const dataDir = dir ?? (await tempDir(t));
  const config = loadConfig({
    env: {},
    // A test gateway starts its export thread with its first export, not with itself (the default):
    // most tests export nothing, and each thread loads the contract and its libraries again.
    overrides: {
      dataDir,
      port: 0,
      host: '127.0.0.1',
      'log.level': 'silent',
      'transparency.exportThreadAtStart': false,
      ...overrides,
    },
  });
  const gw = await startGateway(config, { log: false, notice: () => {}, ...options });
  t.after(() => gw.close());
  return { gw, url: gw.url, dir: dataDir, admin: gw.adminToken ?? '' };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test answers are read loosely.
  json: any;
}

export async function call(
  url: string,
  method: string,
  route: string,
  options: {
    token?: string;
    body?: unknown;
    contentType?: string;
    accept?: string;
    raw?: string | Uint8Array;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  if (options.accept) headers['accept'] = options.accept;
  let body: string | Uint8Array | undefined;
  if (options.raw !== undefined) {
    body = options.raw;
    headers['content-type'] = options.contentType ?? 'text/markdown';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  // Bounded: a test must never wait forever on a server that stopped answering.
  const res = await fetch(`${url}${route}`, {
    method,
    headers,
    signal: AbortSignal.timeout(120_000),
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Creates a token with these roles via the admin API. */
export async function createToken(
  url: string,
  admin: string,
  name: string,
  roles: string[],
): Promise<string> {
  const r = await call(url, 'POST', '/v1/tokens', { token: admin, body: { name, roles } });
  if (r.status !== 201) throw new Error(`token create: ${r.status} ${r.text}`);
  return r.json.token as string;
}

/** Registers a new ML-DSA-65 key with `token`'s identity. */
export async function registerKey(url: string, token: string): Promise<PrivateKey> {
  const key = generatePrivateKey();
  const r = await call(url, 'POST', '/v1/keys', {
    token,
    body: { publicKey: publicKeyToPem(key), label: 'test' },
  });
  if (r.status !== 201) throw new Error(`key register: ${r.status} ${r.text}`);
  return key;
}

let counter = 0;
export interface ReceiptSpec {
  id?: string;
  source?: string;
  operation?: string;
  subject?: string;
  intent?: string;
}

export function receipt(keys: readonly PrivateKey[], spec: ReceiptSpec = {}): string {
  counter++;
  const doc: ReceiptDocument = {
    fields: {
      format: 'torgo.receipt/1',
      id: spec.id ?? newUlid(),
      source: spec.source ?? 'icu-relay-3',
      operation: spec.operation ?? 'vitals.forward',
      subject: spec.subject ?? 'urn:torgo:subject:7f3a9c',
      occurredAt: '2026-11-25T13:07:48.123Z',
      payloadDigests: ['sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    },
    sections: [
      { name: 'Intent', lines: [spec.intent ?? `Forward vitals batch ${counter} to the EHR bridge.`] },
    ],
  };
  let text = createReceiptText(doc);
  for (const key of keys) text = signReceipt(parseReceipt(text), key);
  return text;
}

export function idOf(mu: string): string {
  return parseReceipt(mu).document.fields.id;
}

/** An appender+auditor token with a registered key: what most tests need. */
export async function service(
  url: string,
  admin: string,
  name = 'relay',
): Promise<{ token: string; key: PrivateKey }> {
  const token = await createToken(url, admin, name, ['appender', 'auditor']);
  const key = await registerKey(url, token);
  return { token, key };
}
