/**
 * The floor of rows 14.3–14.4 (bench/http.ts runs it): the http suite's "engine alone" — the same ledger,
 * opened as `openBenchLedger()` opens it — behind a bare `node:http` server, in a process of its own as the
 * gateway is. `POST /v1/receipts` submits the body as `appendReceipt` and answers 201 with the contract's
 * result (it carries the id); `POST /v1/receipts/batch` reads `{ "receipts": [...] }`, submits the array as
 * `appendReceipts` and answers 200 with the gateway's batch shape (`appended`, `failed`, a 201 per item).
 * Nothing else: no framework, authentication, pre-check, coalescing, transparency log, metrics or access
 * log. What the gateway reaches over what this reaches is what the gateway's own work costs; what this
 * reaches over the engine alone is what any HTTP front end in Node pays here (the request, its client on
 * the same cores, a process boundary).
 *
 * Started with `fork`; says `{ port }` on its IPC channel once listening on 127.0.0.1; ends on SIGTERM.
 * argv[2]: the directory for its ledger.
 */
import http from 'node:http';
import { openBenchLedger } from './engine.js';

const bench = await openBenchLedger({ scratch: process.argv[2]! });

async function answer(url: string | undefined, body: string): Promise<[number, string]> {
  if (url === '/v1/receipts') {
    const r = await bench.ledger.submit(bench.appender, 'appendReceipt', [body]);
    return [201, Buffer.from(r.payload).toString('utf8')];
  }
  if (url === '/v1/receipts/batch') {
    const { receipts } = JSON.parse(body) as { receipts: string[] };
    await bench.ledger.submit(bench.appender, 'appendReceipts', [JSON.stringify(receipts)]);
    const results = receipts.map(() => ({ status: 201 }));
    return [200, JSON.stringify({ appended: receipts.length, failed: 0, results })];
  }
  return [404, 'not found'];
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    answer(req.url, Buffer.concat(chunks).toString('utf8')).then(
      ([status, text]) => {
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
      },
      (e: unknown) => {
        const text = e instanceof Error ? e.message : String(e);
        res.writeHead(400, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      },
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void bench.close().then(() => process.exit(0));
});
