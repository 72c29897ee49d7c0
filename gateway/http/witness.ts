/**
 * `POST /v1/checkpoint/cosign`: this gateway witnesses another organisation's checkpoint of the same
 * log (gateway/logbuilder/witness.ts) and answers it with this gateway's cosignature added.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { MAX_NOTE_BYTES, toBase64 } from '../../core/index.js';
import { GatewayError } from '../errors.js';
import type { GatewayService } from '../service.js';
import { Errors } from '@torgo/api';

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

export async function witnessRoutes(app: FastifyInstance, service: GatewayService): Promise<void> {
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
