/** Routes /v1/keys: the signer key registry (register, read, history, rotate, revoke). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { GatewayService } from '../service.js';
import { callerOf } from './auth.js';
import {
  Errors,
  KeyHistory,
  KeyIdParams,
  KeyRotation,
  KeyWrite,
  RegisterKeyBody,
  RevokeKeyBody,
  RotateKeyBody,
} from '@torgo/api';

export const keyRoutes: FastifyPluginAsyncTypebox<{ service: GatewayService }> = async (app, { service }) => {
  app.post(
    '/v1/keys',
    {
      config: { roles: ['appender'] },
      schema: {
        summary: "Register a signer's ML-DSA public key, owned by the caller's identity",
        tags: ['keys'],
        body: RegisterKeyBody,
        response: { 201: KeyWrite, ...Errors },
      },
    },
    async (request, reply) => {
      const { identity } = callerOf(request);
      const { body } = request;
      const r = await service.ledger.registerKey(identity, body.publicKey, body.label ?? '');
      reply.header('location', `/v1/keys/${r.value.keyId}`);
      return reply.code(201).send({ key: r.value, txId: r.txId, block: r.block });
    },
  );

  app.get(
    '/v1/keys/:keyId',
    {
      schema: {
        summary: 'A key record (status active, retired or revoked)',
        tags: ['keys'],
        params: KeyIdParams,
        response: { 200: Type.Ref('KeyRecord'), ...Errors },
      },
    },
    async (request) => {
      const { identity } = callerOf(request);
      return service.ledger.getKey(identity, request.params.keyId);
    },
  );

  app.get(
    '/v1/keys/:keyId/history',
    {
      schema: {
        summary: "Every committed version of a key's record, from the ledger's history",
        tags: ['keys'],
        params: KeyIdParams,
        response: { 200: KeyHistory, ...Errors },
      },
    },
    async (request) => {
      const { identity } = callerOf(request);
      return service.ledger.getKeyHistory(identity, request.params.keyId);
    },
  );

  app.post(
    '/v1/keys/:keyId/rotate',
    {
      config: { roles: ['appender'] },
      schema: {
        summary: 'Retire an owned key in favour of a new one',
        tags: ['keys'],
        params: KeyIdParams,
        body: RotateKeyBody,
        response: { 200: KeyRotation, ...Errors },
      },
    },
    async (request) => {
      const { identity } = callerOf(request);
      const { keyId } = request.params;
      const r = await service.ledger.rotateKey(identity, keyId, request.body.publicKey);
      return { ...r.value, txId: r.txId, block: r.block };
    },
  );

  app.post(
    '/v1/keys/:keyId/revoke',
    {
      config: { roles: ['appender', 'admin'] },
      schema: {
        summary: 'Revoke a key (its owner, or an admin): no new receipts under it; earlier ones get flagged',
        tags: ['keys'],
        params: KeyIdParams,
        body: RevokeKeyBody,
        response: { 200: KeyWrite, ...Errors },
      },
    },
    async (request) => {
      const { identity } = callerOf(request);
      const { keyId } = request.params;
      const r = await service.ledger.revokeKey(identity, keyId, request.body.reason);
      return { key: r.value, txId: r.txId, block: r.block };
    },
  );
};
