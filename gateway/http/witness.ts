/**
 * `POST /v1/checkpoint/cosign`: this gateway witnesses another organisation's checkpoint of the same
 * log (gateway/logbuilder/witness.ts) and answers it with this gateway's cosignature added.
 * `GET /v1/log/witness`: what the continuous witness has cosigned and refused.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { MAX_NOTE_BYTES, toBase64 } from '../../core/index.js';
import { GatewayError } from '../errors.js';
import type { GatewayService } from '../service.js';
import { Cosigned, cosignRequest, Errors, WitnessStatus } from '@torgo/api';

export const witnessRoutes: FastifyPluginAsyncTypebox<{ service: GatewayService }> = async (
  app,
  { service },
) => {
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
      if (!witness) return { enabled: false, cosigned: 0, refused: 0, stale: 0, raced: 0 };
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
        body: cosignRequest(MAX_NOTE_BYTES),
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
      const { note } = request.body;
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
};
