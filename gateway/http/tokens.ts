/**
 * Routes /v1/tokens (admin), /v1/me and /v1/audit/tokens. Token management is an HTTP API because
 * the running gateway owns the data directory (the ledger's LevelDB lock, the token store): `torgo
 * token …` calls it. What an admin may and may not do is gateway/auth/policy.ts; every issue,
 * rotation, revocation and refused grant is on the token audit log (gateway/auth/audit.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { infoOf } from '../auth/tokens.js';
import type { GatewayService } from '../service.js';
import { actorOf, callerOf } from './auth.js';
import {
  AuditPage,
  AuditQuery,
  CreateTokenBody,
  Errors,
  Me,
  TokenCreated,
  TokenIdParams,
  TokenList,
} from '@torgo/api';

export const tokenRoutes: FastifyPluginAsyncTypebox<{ service: GatewayService }> = async (
  app,
  { service },
) => {
  app.get(
    '/v1/tokens',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'All tokens, revoked ones included (never their secrets)',
        tags: ['tokens'],
        response: { 200: TokenList, ...Errors },
      },
    },
    async () => ({ tokens: service.tokens.list() }),
  );

  app.post(
    '/v1/tokens',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Create a token (and, unless `identity` is given, a new identity with its roles)',
        description:
          "Without `identity`, a new X.509 identity whose `torgo.role` attribute holds `roles` (appender, auditor, admin: what an admin may grant) is issued (embedded: by the ledger's CA; Fabric: by the organisation's Fabric CA, `fabric.ca`, else 400) and stored in the wallet. With `identity` (a wallet label that has never had a token), the token is bound to that identity and its certificate decides the roles. 403 `E_IDENTITY_BOUND` if the identity already has a token (rotate it instead), `E_IDENTITY_RESERVED` for the log operator's identity, `E_ROLE_NOT_GRANTABLE` for log-operator. Audited. The token string is in this answer only.",
        tags: ['tokens'],
        body: CreateTokenBody,
        response: { 201: TokenCreated, ...Errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { body } = request;
      const { record, token } = await service.createToken(body, actorOf(caller));
      request.log.info({ tokenId: record.id, name: record.name, roles: record.roles }, 'token created');
      return reply.code(201).send({ token, info: infoOf(record) });
    },
  );

  app.post(
    '/v1/tokens/:id/rotate',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Rotate a token: a new token for the same identity; the old one is revoked at once',
        description:
          "For a lost or leaked token. Only the identity's latest token can be rotated (409 `E_TOKEN_SUPERSEDED` otherwise), never the log operator's (403 `E_IDENTITY_RESERVED`) nor an identity holding a role an admin may not grant (403 `E_ROLE_NOT_GRANTABLE`). Audited as `token.rotated`. The token string is in this answer only.",
        tags: ['tokens'],
        params: TokenIdParams,
        response: { 201: TokenCreated, ...Errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { id } = request.params;
      const { record, token } = await service.rotateToken(id, actorOf(caller), false);
      request.log.info({ tokenId: record.id, replaces: id }, 'token rotated');
      return reply.code(201).send({ token, info: infoOf(record) });
    },
  );

  app.post(
    '/v1/tokens/:id/revoke',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Revoke a token (at once: the next request with it is 401). Audited',
        tags: ['tokens'],
        params: TokenIdParams,
        response: { 200: Type.Ref('TokenInfo'), ...Errors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { id } = request.params;
      const revoked = await service.revokeToken(id, actorOf(caller));
      request.log.info({ tokenId: id }, 'token revoked');
      return infoOf(revoked);
    },
  );

  app.get(
    '/v1/me',
    {
      schema: {
        summary: 'Who the token is: name, roles, identity',
        tags: ['tokens'],
        response: { 200: Me, ...Errors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return {
        tokenId: caller.token.id,
        name: caller.token.name,
        roles: [...caller.roles],
        identity: caller.identity.label,
        mspId: caller.identity.mspId,
      };
    },
  );

  app.post(
    '/v1/me/rotate',
    {
      schema: {
        summary: "Rotate the caller's own token: a new token for the same identity; this one is revoked",
        description:
          'Any token may rotate itself. Audited as `token.rotated`. The new token is in this answer only.',
        tags: ['tokens'],
        response: { 201: TokenCreated, ...Errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { record, token } = await service.rotateToken(caller.token.id, actorOf(caller), true);
      request.log.info({ tokenId: record.id, replaces: caller.token.id }, 'token rotated by itself');
      return reply.code(201).send({ token, info: infoOf(record) });
    },
  );

  app.get(
    '/v1/audit/tokens',
    {
      config: { roles: ['auditor', 'admin'] },
      schema: {
        summary: 'The token audit log: every token issue, rotation, revocation and refused grant',
        description:
          'Events in order, hash-chained (each `prev` is `sha256:` of the canonical JSON of the event before; the first is all zeros). Page with `after` (the last `seq` read). `head` is the latest event: pin it, and a later read must extend it.',
        tags: ['tokens'],
        querystring: AuditQuery,
        response: { 200: AuditPage, ...Errors },
      },
    },
    async (request) => {
      const { after = 0, limit = 100 } = request.query;
      const events = service.audit.read(after, limit);
      const head = service.audit.headOf();
      const last = events.at(-1)?.seq ?? after;
      return { events, head, nextAfter: last < head.seq ? last : null };
    },
  );
};
