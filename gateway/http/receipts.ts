/** Routes /v1/receipts: append one, append a batch, read one, query (JSON pages or a CSV stream). */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BatchResult,
  batchBody,
  Errors,
  MuFile,
  MuFileBody,
  queryString,
  ReceiptCsv,
  ReceiptId,
  ReceiptPage,
  type ReceiptResource,
  ReceiptWrapper,
} from '@torgo/api';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { appendAll } from '../append/pipeline.js';
import { GatewayError } from '../errors.js';
import type { ReceiptView } from '../ledger/audit.js';
import { writeReceiptPage } from '../ledger/page.js';
import { indexedField, readSelection, type Selection } from '../ledger/selection.js';
import type { WalletIdentity } from '../ledger/wallet.js';
import type { GatewayService } from '../service.js';
import { callerOf } from './auth.js';
import { csvChunks, SummaryPages } from './csv.js';
import { decodeCursor, encodeCursor, type QueryShape } from './cursor.js';
import { PageBuffers } from './page-buffers.js';

/** What fastify answers a JSON body with: the same header for the answers written as bytes here. */
const JSON_TYPE = 'application/json; charset=utf-8';

/** A receipt as the API shows it: the contract's record with `digest` named `hash`. */
export function resourceOf(v: ReceiptView, block?: number): ReceiptResource {
  const { digest, signerKeyIds, revokedSigners, ...rest } = v;
  const resource = {
    ...rest,
    hash: digest,
    signerKeyIds: [...signerKeyIds],
    revokedSigners: [...revokedSigners],
  };
  return block === undefined ? resource : { ...resource, block };
}

function bodyToReceipt(body: unknown): Uint8Array | string {
  if (Buffer.isBuffer(body)) {
    if (body.length === 0)
      throw new GatewayError('E_BAD_REQUEST', 'the request body is empty: send the .mu file');
    return new Uint8Array(body.buffer, body.byteOffset, body.length);
  }
  if (body && typeof body === 'object' && 'receipt' in body && typeof body.receipt === 'string') {
    return body.receipt;
  }
  throw new GatewayError(
    'E_BAD_REQUEST',
    'send the .mu file as text/markdown, or JSON {"receipt": "<.mu text>"}',
  );
}

function wantsCsv(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return /\btext\/csv\b/i.test(accept);
}

export const receiptRoutes: FastifyPluginAsyncTypebox<{ service: GatewayService }> = async (
  app,
  { service },
) => {
  const { limits } = service.config;
  const pageBuffers = new PageBuffers();

  app.post(
    '/v1/receipts',
    {
      config: { roles: ['appender'] },
      schema: {
        summary: 'Append one signed .mu receipt',
        description:
          'Body: the .mu file as `text/markdown`, or JSON `{"receipt": "<.mu text>"}`. Answers 201 once the receipt is committed, 200 with the same body for an identical repeat, 409 when the id is taken by other bytes.',
        tags: ['receipts'],
        body: {
          content: {
            'application/json': { schema: ReceiptWrapper },
            'text/markdown': { schema: MuFileBody },
          },
        },
        response: { 200: Type.Ref('AppendAck'), 201: Type.Ref('AppendAck'), ...Errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const outcome = await service.appendWindow.append(caller.identity, bodyToReceipt(request.body));
      if (!outcome.ok) throw outcome.error;
      reply.header('location', `/v1/receipts/${encodeURIComponent(outcome.ack.id)}`);
      return reply.code(outcome.created ? 201 : 200).send(outcome.ack);
    },
  );

  app.post(
    '/v1/receipts/batch',
    {
      bodyLimit: limits.batchBodyBytes,
      config: { roles: ['appender'] },
      schema: {
        summary: `Append up to ${limits.batchItems} receipts; one result per item`,
        description:
          'Each item is verified and committed on its own account: an invalid item gets its error, its valid neighbours are still appended. The response is 200 whenever the batch was processed; read each item’s `status`.',
        tags: ['receipts'],
        body: batchBody(limits.batchItems),
        response: { 200: BatchResult, ...Errors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { receipts } = request.body;
      const outcomes = await appendAll(service, caller.identity, receipts);
      let appended = 0;
      let existing = 0;
      const results = outcomes.map((o, index) => {
        if (o.ok) {
          if (o.created) appended++;
          else existing++;
          return { index, status: o.created ? 201 : 200, receipt: o.ack };
        }
        return { index, status: o.error.status, error: o.error.toBody() };
      });
      return { results, appended, existing, failed: outcomes.length - appended - existing };
    },
  );

  app.get(
    '/v1/receipts/:id',
    {
      config: { roles: ['auditor', 'admin'] },
      schema: {
        summary: 'One receipt: JSON, or the .mu file with Accept: text/markdown',
        tags: ['receipts'],
        params: ReceiptId,
        response: {
          200: {
            description: 'The receipt',
            content: {
              'application/json': { schema: Type.Ref('Receipt') },
              'text/markdown': { schema: MuFile },
            },
          },
          ...Errors,
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { id } = request.params;
      const receipt = await service.ledger.getReceiptJson(caller.identity, id);
      if (/\btext\/markdown\b/i.test(request.headers.accept ?? '')) {
        return reply
          .type('text/markdown; charset=utf-8')
          .serializer((x: unknown) => x as string)
          .send(receipt.value('mu'));
      }
      const block = await service.ledger.blockOf(caller.identity, receipt.value('txId'));
      // The Receipt schema's JSON, written from the contract's bytes (gateway/ledger/page.ts).
      return reply.type(JSON_TYPE).send(Buffer.concat(receipt.resource(block)));
    },
  );

  app.get(
    '/v1/receipts',
    {
      config: { roles: ['auditor', 'admin'] },
      schema: {
        summary: 'Query receipts by source, subject and/or operation in a committedAt window',
        description:
          'At least one of source, subject, operation. `from` ≤ committedAt < `to`. Pages of `limit` rows; pass `nextCursor` back as `cursor`. With `Accept: text/csv` the whole result (up to `limit` rows if given) streams as CSV.',
        tags: ['receipts'],
        querystring: queryString(limits.queryPage),
        response: {
          200: {
            description: 'A page of receipts, or with Accept: text/csv the whole result',
            content: {
              'application/json': { schema: ReceiptPage },
              'text/csv': { schema: ReceiptCsv },
            },
          },
          ...Errors,
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const q = request.query;
      const shape: QueryShape = {
        source: q.source,
        subject: q.subject,
        operation: q.operation,
        from: q.from,
        to: q.to,
        order: q.order ?? 'asc',
      };
      indexedField(shape);
      const bookmark = q.cursor ? decodeCursor(shape, q.cursor) : '';

      if (!wantsCsv(request)) {
        // The ReceiptPage schema's JSON, written from the contract's bytes.
        const want = q.limit ?? Math.min(50, limits.queryPage);
        const { rows, bookmark: next } = await readSelection(
          service.ledger,
          caller.identity,
          shape,
          bookmark,
          want,
        );
        const nextCursor = next ? encodeCursor(shape, next) : null;
        const body = writeReceiptPage(rows, nextCursor, (size) => pageBuffers.lend(size, reply.raw));
        return reply.type(JSON_TYPE).send(body);
      }

      // CSV: the selection is read once before the status line, so bad filters still get a JSON error.
      const max = Math.min(q.limit ?? limits.csvRows, limits.csvRows);
      const stream = await csvStream(service, caller.identity, shape, bookmark, max);
      stream.on('error', (e) => request.log.error({ err: e }, 'CSV export failed mid-stream'));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="receipts.csv"')
        .send(stream);
    },
  );
};

/**
 * The CSV of at most `max` rows of `selection` from `bookmark` on. On the embedded ledger with an export
 * thread, the thread reads and writes it (logbuilder/export-thread.ts): this thread reads one row first,
 * so a selection the ledger refuses is refused before the status line. Otherwise (Fabric, or no thread)
 * it is made here, its first page read before the status line.
 */
async function csvStream(
  service: GatewayService,
  who: WalletIdentity,
  selection: Selection,
  bookmark: string,
  max: number,
): Promise<Readable> {
  const thread = service.log?.exportThread;
  if (thread) {
    await readSelection(service.ledger, who, selection, bookmark, 1);
    const { label, mspId, certificate } = who;
    const job = { kind: 'csv', identity: { label, mspId, certificate }, selection, bookmark, max } as const;
    return Readable.from(thread.run(job), { objectMode: false });
  }
  const pages = new SummaryPages(service.ledger, who, selection, bookmark, max);
  await pages.prefetch();
  return Readable.from(csvChunks(pages.rows()), { objectMode: false });
}
