/**
 * Routes /v1/tokens (admin) and /v1/me. Token management is an HTTP API because the running gateway
 * owns the data directory (the ledger's LevelDB lock, the token store): `torgo token …` calls it.
 */
import type { FastifyInstance } from 'fastify';
import { infoOf } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import type { GatewayService } from '../service.js';
import { callerOf } from './auth.js';
import { CreateTokenBody, Errors, Me, TokenCreated, TokenIdParams, TokenInfo } from './schemas.js';
import { Type } from 'typebox';

export async function tokenRoutes(app: FastifyInstance, service: GatewayService): Promise<void> {
  app.get(
    '/v1/tokens',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'All tokens, revoked ones included (never their secrets)',
        tags: ['tokens'],
        response: { 200: Type.Object({ tokens: Type.Array(TokenInfo) }), ...Errors },
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
          "Without `identity`, a new X.509 identity whose `torgo.role` attribute holds `roles` is issued (embedded: by the ledger's CA; Fabric: by the organisation's Fabric CA, `fabric.ca`, else 400) and stored in the wallet. With `identity` (a wallet label), the token uses that identity and its certificate decides the roles. The token string is in this answer only.",
        tags: ['tokens'],
        body: CreateTokenBody,
        response: { 201: TokenCreated, ...Errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const body = request.body as { name: string; roles?: string[]; identity?: string };
      const { record, token } = await service.createToken(body, caller.token.id);
      request.log.info({ tokenId: record.id, name: record.name, roles: record.roles }, 'token created');
      return reply.code(201).send({ token, info: infoOf(record) });
    },
  );

  app.post(
    '/v1/tokens/:id/revoke',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Revoke a token (at once: the next request with it is 401)',
        tags: ['tokens'],
        params: TokenIdParams,
        response: { 200: TokenInfo, ...Errors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { id } = request.params as { id: string };
      const revoked = await service.tokens.revoke(id, caller.token.id);
      if (!revoked) throw new GatewayError('E_TOKEN_UNKNOWN', `no token ${id}`);
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
      const { token, identity } = callerOf(request);
      return {
        tokenId: token.id,
        name: token.name,
        roles: [...token.roles],
        identity: identity.label,
        mspId: identity.mspId,
      };
    },
  );
}
