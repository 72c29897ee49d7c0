/**
 * Routes of the transparency log (docs/transparency.md, docs/bundle-format.md): the latest signed
 * checkpoint and its history, inclusion and consistency proofs, the operator's public key, and
 * export bundles streamed as JSON lines.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { filtersProblem, isCoreError, toBase64 } from '../../core/index.js';
import { GatewayError } from '../errors.js';
import type { IssuedCheckpoint } from '../logbuilder/checkpointer.js';
import type { ExportSummary } from '../logbuilder/export.js';
import type { TransparencyLog } from '../logbuilder/log.js';
import { exportedReceipt, selectAll, type Selection } from '../ledger/selection.js';
import type { GatewayService } from '../service.js';
import { callerOf } from './auth.js';
import { BundleLines, Checkpoint, Errors, ExportQuery, Inclusion, ReceiptId, Size } from '@torgo/api';

/**
 * The newest checkpoint cosigned across organisations (witness.ts): 503 while none has been cosigned
 * yet (the next checkpoint may be), 400 when this gateway does not witness.
 */
function cosignedCheckpoint(log: TransparencyLog): IssuedCheckpoint {
  if (!log.witnessing)
    throw new GatewayError(
      'E_BAD_REQUEST',
      'witnessing is off on this gateway (transparency.witness): it has no cosigned checkpoints',
    );
  const cosigned = log.witnessing.cosigned;
  if (!cosigned)
    throw new GatewayError(
      'E_UNAVAILABLE',
      'no checkpoint of this log has been cosigned by another organisation yet; retry after the next checkpoint, or export with checkpoint=fresh',
      { reason: 'NOT_YET_COSIGNED' },
    );
  return cosigned;
}

function logOf(service: GatewayService): TransparencyLog {
  if (!service.log)
    throw new GatewayError('E_UNAVAILABLE', 'the transparency log is not running (no log-operator identity)');
  return service.log;
}

/** Proof-range problems are the client's (a size beyond the log, from > to), not the server's. */
function asBadRequest(e: unknown): never {
  if (isCoreError(e) && e.code === 'E_PROOF_INVALID') throw new GatewayError('E_BAD_REQUEST', e.message);
  throw e;
}

export const logRoutes: FastifyPluginAsyncTypebox<{ service: GatewayService }> = async (app, { service }) => {
  const checkpointBody = async (fresh: boolean) => {
    const log = logOf(service);
    const issued =
      fresh || !log.checkpointer.current
        ? await log.checkpointAt(await service.currentHeight())
        : log.checkpointer.current;
    const c = issued.checkpoint;
    return {
      origin: c.origin,
      size: c.size,
      rootHash: toBase64(c.rootHash),
      note: issued.note,
      operatorKeyId: log.operatorKeyId,
    };
  };

  app.get(
    '/v1/checkpoint',
    {
      schema: {
        summary: "The log's latest signed checkpoint (issued periodically; a first one on demand)",
        tags: ['transparency'],
        response: { 200: Checkpoint, ...Errors },
      },
    },
    async () => checkpointBody(false),
  );

  app.post(
    '/v1/checkpoint',
    {
      config: { roles: ['log-operator', 'admin'] },
      schema: {
        summary: 'Issue a checkpoint now, covering every committed block (also recorded on the ledger)',
        tags: ['transparency'],
        response: { 200: Checkpoint, ...Errors },
      },
    },
    async () => checkpointBody(true),
  );

  app.get(
    '/v1/checkpoints',
    {
      schema: {
        summary: 'The checkpoints recorded on the ledger for this log, from the contract (newest first)',
        tags: ['transparency'],
        response: { 200: Type.Unknown(), ...Errors },
      },
    },
    async (request) => {
      const { identity } = callerOf(request);
      return JSON.parse(
        Buffer.from(
          await service.driver.evaluate(identity, 'getCheckpointHistory', [logOf(service).origin]),
        ).toString('utf8'),
      );
    },
  );

  app.get(
    '/v1/log/operator-key',
    {
      config: { public: true },
      schema: {
        summary:
          "The log operator's ML-DSA public key (SPKI PEM), for `torgo verify --trust`; check it out of band",
        tags: ['transparency'],
        response: {
          200: {
            description: 'SPKI PEM',
            content: { 'application/x-pem-file': { schema: Type.String() } },
          },
          ...Errors,
        },
      },
    },
    async (_request, reply) => reply.type('application/x-pem-file').send(logOf(service).operatorPublicKeyPem),
  );

  app.get(
    '/v1/receipts/:id/proof',
    {
      config: { roles: ['auditor', 'admin'] },
      schema: {
        summary:
          "Inclusion proof of a receipt's log entry, in the tree of `size` leaves (default: a checkpoint covering it)",
        tags: ['transparency'],
        params: ReceiptId,
        querystring: Type.Object({ size: Type.Optional(Size) }, { additionalProperties: false }),
        response: { 200: Inclusion, ...Errors },
      },
    },
    async (request) => {
      const log = logOf(service);
      const { id } = request.params;
      const { size } = request.query;
      let checkpoint: string | undefined;
      let treeSize = size;
      if (treeSize === undefined) {
        let issued = log.checkpointer.current;
        const leaf = await log.store.receiptLeaf(id);
        // Not (yet) covered: wait until the log has every committed block, then take a checkpoint of it
        // (the same one again when nothing new was logged).
        if (!issued || !leaf || leaf.index >= issued.checkpoint.size) {
          issued = await log.checkpointAt(await service.currentHeight());
        }
        treeSize = issued.checkpoint.size;
        checkpoint = issued.note;
      }
      if (treeSize > log.store.size) {
        throw new GatewayError(
          'E_BAD_REQUEST',
          `size ${treeSize} is beyond the log's ${log.store.size} leaves`,
        );
      }
      const found = await log.inclusion(id, treeSize).catch(asBadRequest);
      if (!found)
        throw new GatewayError('E_NOT_FOUND', `receipt ${id} is not in the log's first ${treeSize} leaves`);
      return { id, treeSize, ...found, ...(checkpoint ? { checkpoint } : {}) };
    },
  );

  app.get(
    '/v1/log/consistency',
    {
      schema: {
        summary: 'Consistency proof between two tree sizes (RFC 9162 §2.1.4)',
        tags: ['transparency'],
        querystring: Type.Object({ from: Size, to: Size }, { additionalProperties: false }),
        response: {
          200: Type.Object({ from: Type.Integer(), to: Type.Integer(), proof: Type.Array(Type.String()) }),
          ...Errors,
        },
      },
    },
    async (request) => {
      const { from, to } = request.query;
      const proof = await logOf(service).consistency(from, to).catch(asBadRequest);
      return { from, to, proof };
    },
  );

  app.get(
    '/v1/export',
    {
      config: { roles: ['auditor', 'admin'] },
      schema: {
        summary: 'Export bundle (torgo.bundle/2, JSON lines) of a selection, for offline verification',
        description:
          "Same filters as GET /v1/receipts. Streams: header, a fresh signed checkpoint, key entries, receipts with inclusion proofs, and an export statement signed with the log operator's key over all of it.",
        tags: ['transparency'],
        querystring: ExportQuery,
        response: {
          200: {
            description: 'The bundle, one JSON value per line (docs/bundle-format.md)',
            content: { 'application/x-ndjson': { schema: BundleLines } },
          },
          ...Errors,
        },
      },
    },
    async (request, reply) => {
      const log = logOf(service);
      const { identity } = callerOf(request);
      const { checkpoint, ...q } = request.query;
      const selection: Selection = { ...q, order: 'asc' };
      const filters = Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as Record<
        string,
        string
      >;
      // The bundle claims these filters and `torgo verify` holds every receipt to them: refuse what it
      // would refuse (e.g. a malformed secondary filter the ledger index never looks at).
      const problem = filtersProblem(filters);
      if (problem) throw new GatewayError('E_BAD_REQUEST', `export filters: ${problem}`);
      // The ledger refuses a selection it cannot make (no indexed field) before the status line goes out.
      const first = selectAll(service.ledger, identity, selection);
      await first.next();
      await first.return(undefined);
      // Every block committed now must be in the log before the bundle's checkpoint is taken: refuse
      // (503) here, before the status line, rather than stream a bundle missing acknowledged receipts.
      const height = await service.currentHeight();
      await log.coverHeight(height);
      const summary: ExportSummary = { keys: 0, receipts: 0, skipped: 0 };
      const started = performance.now();
      // On the embedded ledger an export has a thread of its own, which reads the ledger itself (the
      // appends' thread only hands its chunks on); on Fabric the ledger's pages come from the peers.
      const { label, mspId, certificate } = identity;
      const stream = log.exportStream(
        height,
        log.exportThread
          ? { thread: { identity: { label, mspId, certificate }, selection } }
          : {
              receipts: async function* () {
                for await (const r of selectAll(service.ledger, identity, selection))
                  yield exportedReceipt(r);
              },
              readText: async (id) => (await service.ledger.getReceiptJson(identity, id)).value('mu'),
            },
        filters,
        summary,
        checkpoint === 'cosigned' ? cosignedCheckpoint(log) : undefined,
      );
      stream.on('error', (e) => request.log.error({ err: e, ...summary }, 'export failed mid-stream'));
      // A client gone mid-export destroys the stream, which stops the reads behind it.
      stream.on('close', () => {
        const ms = Math.round(performance.now() - started);
        if (stream.readableEnded) request.log.info({ ...summary, ms }, 'export finished');
        else if (!stream.errored)
          request.log.info({ ...summary, ms }, 'export stopped: the client went away');
      });
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', 'attachment; filename="torgo-bundle.jsonl"')
        .send(stream);
    },
  );
};
