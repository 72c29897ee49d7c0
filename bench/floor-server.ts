/**
 * The floor of a durable receipt append over HTTP (bench/steady.ts `floorRuns` runs it): `node:http`, the request's
 * `.mu` read, parsed and its ML-DSA-65 signature verified with core's own functions (native backend, the
 * bench key), the bytes appended to a file and `fdatasync`'d (one sync for every append that arrived while
 * the last one ran, as the ledger's blocks are), then 201 with a small JSON answer. Nothing else: no
 * framework, authentication, ledger, contract, indexes, blocks, log or metrics. What a receipt costs here at
 * a given arrival rate is what any Node gateway on this machine pays before doing any of a ledger's work.
 *
 * Started with `fork`; says `{ port }` on its IPC channel once listening on 127.0.0.1; ends on SIGTERM.
 * argv[2]: the directory for its file.
 */
import http from 'node:http';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { parseReceipt, verifyReceiptSignatures } from '../core/index.js';
import { nativeBackend } from '../core/crypto/native.js';
import { benchKey } from './receipts.js';

const file = await open(join(process.argv[2]!, 'appends'), 'a', 0o600);
const key = { alg: benchKey.alg, publicKey: benchKey.publicKey, keyId: benchKey.keyId };

let waiting: (() => void)[] = [];
let syncing = false;
async function syncAll(): Promise<void> {
  syncing = true;
  while (waiting.length > 0) {
    const done = waiting;
    waiting = [];
    await file.datasync();
    for (const resolve of done) resolve();
  }
  syncing = false;
}

async function append(body: Buffer): Promise<string> {
  const receipt = parseReceipt(new Uint8Array(body.buffer, body.byteOffset, body.length));
  verifyReceiptSignatures(receipt, (id) => (id === key.keyId ? key : undefined), nativeBackend);
  await file.write(body);
  await new Promise<void>((resolve) => {
    waiting.push(resolve);
    if (!syncing) void syncAll();
  });
  return JSON.stringify({ id: receipt.document.fields.id, hash: receipt.digest });
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    append(Buffer.concat(chunks)).then(
      (ack) => {
        res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ack) });
        res.end(ack);
      },
      (e: unknown) => {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(e instanceof Error ? e.message : String(e));
      },
    );
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('SIGTERM', () => {
  server.close();
  void file.close().then(() => process.exit(0));
});
