/**
 * Bearer-token authentication and the gateway's early role checks. Routes say `config.public` to
 * skip authentication, `config.roles` to refuse callers whose token holds none of those roles
 * before any work is done; the contract still decides every ledger operation.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditActor } from '../auth/audit.js';
import type { Role } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import type { Caller, GatewayService } from '../service.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
  interface FastifyContextConfig {
    /** No token needed (health, metrics, OpenAPI). */
    public?: boolean;
    /** The caller's token must hold one of these roles. */
    roles?: readonly Role[];
  }
}

const BEARER = /^Bearer ([!-~]{1,256})$/;

export function authenticate(service: GatewayService) {
  return async function onRequest(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const config = request.routeOptions.config;
    // Unknown routes answer 404 to anyone: the route table is public (/openapi.json) anyway.
    if (config.public || request.routeOptions.url === undefined) return;
    const header = request.headers.authorization;
    const m = typeof header === 'string' ? BEARER.exec(header) : null;
    const caller = m ? await service.authenticate(m[1]!) : undefined;
    if (!caller) {
      reply.header('www-authenticate', 'Bearer realm="torgo"');
      throw new GatewayError(
        'E_UNAUTHENTICATED',
        header
          ? 'the bearer token is not valid (unknown, malformed or revoked)'
          : 'this route needs "Authorization: Bearer <token>"',
      );
    }
    request.caller = caller;
    const roles = config.roles;
    if (roles && !roles.some((r) => caller.roles.includes(r))) {
      throw new GatewayError(
        'E_FORBIDDEN',
        `this route needs one of the roles ${roles.join(', ')}; the token has ${caller.roles.join(', ') || 'none'}`,
        {
          required: roles,
        },
      );
    }
  };
}

/** The audit log's name for the caller. */
export function actorOf(caller: Caller): AuditActor {
  return { kind: 'token', tokenId: caller.token.id, identity: caller.identity.label };
}

/** The authenticated caller (routes that are not public always have one). */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new GatewayError('E_UNAUTHENTICATED', 'not authenticated');
  return request.caller;
}
