/**
 * `POST /v1/checkpoint/cosign`: this gateway witnesses another organisation's checkpoint of the same
 * log (gateway/logbuilder/witness.ts) and answers it with this gateway's cosignature added.
 * `GET /v1/log/witness`: what the continuous witness has cosigned and refused.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { MAX_NOTE_BYTES, toBase64 } from '../../core/index.js';
import { GatewayError } from '../errors.js';
import type { GatewayService } from '../service.js';
import { Errors } from './schemas.js';

const CosignRequest = Type.Object(
  {
    note: Type.String({
      minLength: 1,
      maxLength: MAX_NOTE_BYTES,
      description: 'a signed checkpoint (C2SP signed note) of this log',
    }),
  },
  { additionalProperties: false },
);

const Cosigned = Type.Object({
  origin: Type.String(),
  size: Type.Integer(),
  rootHash: Type.String({ description: 'base64 RFC 9162 root hash' }),
  note: Type.String({ description: 'the same note with this gateway’s signature line added' }),
  operatorKeyId: Type.String({ description: 'the key this gateway cosigned with' }),
});

const Head = Type.Object({ size: Type.Integer(), rootHash: Type.String() });
const WitnessStatus = Type.Object({
  enabled: Type.Boolean({ description: 'transparency.witness' }),
  cosigned: Type.Integer({ description: "other organisations' checkpoints checked and cosigned" }),
  refused: Type.Integer({ description: 'checkpoints refused (fork, inconsistent, malformed): never signed' }),
  stale: Type.Integer({ description: 'checkpoints older than the last one cosigned, skipped' }),
  lastRefusal: Type.Optional(
    Type.Object({ code: Type.String(), message: Type.String(), block: Type.Integer() }),
  ),
  witnessed: Type.Optional(Head),
  latest: Type.Optional(
    Type.Object({
      size: Type.Integer(),
      rootHash: Type.String(),
      signatures: Type.Integer({ description: 'signature lines on the newest cosigned checkpoint' }),
    }),
  ),
});

export async function witnessRoutes(app: FastifyInstance, service: GatewayService): Promise<void> {
  app.get(
    '/v1/log/witness',
    {
      config: { roles: ['auditor', 'log-operator', 'admin'] },
      schema: {
        summary:
          "This gateway's witnessing of other organisations' checkpoints: how many it cosigned and refused, the last refusal, the newest checkpoint cosigned across organisations",
        tags: ['transparency'],
        response: { 200: WitnessStatus, ...Errors },
      },
    },
    async () => {
      const witness = service.log?.witnessing;
      if (!witness) return { enabled: false, cosigned: 0, refused: 0, stale: 0 };
      return { enabled: true, ...witness.status() };
    },
  );

  app.post(
    '/v1/checkpoint/cosign',
    {
      config: { roles: ['log-operator', 'admin'] },
      schema: {
        summary:
          "Cosign another organisation's checkpoint of this log: only if this gateway's own log has the same root at that size (409 E_CHECKPOINT_CONFLICT otherwise)",
        tags: ['transparency'],
        body: CosignRequest,
        response: { 200: Cosigned, ...Errors },
      },
    },
    async (request) => {
      const log = service.log;
      if (!log)
        throw new GatewayError(
          'E_UNAVAILABLE',
          'the transparency log is not running (no log-operator identity)',
        );
      const { note } = request.body as { note: string };
      const { note: cosigned, checkpoint } = await log.witness(note, () => service.currentHeight());
      return {
        origin: checkpoint.origin,
        size: checkpoint.size,
        rootHash: toBase64(checkpoint.rootHash),
        note: cosigned,
        operatorKeyId: log.operatorKeyId,
      };
    },
  );
}
