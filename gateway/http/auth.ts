/**
 * Bearer-token authentication and the gateway's early role checks. Routes say `config.public` to
 * skip authentication, `config.roles` to refuse callers whose token holds none of those roles
 * before any work is done; the contract still decides every ledger operation.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticateCertificate } from '../auth/client-cert.js';
import type { AuditActor } from '../auth/audit.js';
import type { Role } from '../../chaincode/identity.js';
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
    const clientAuth = service.config.tls.clientAuth;
    let caller: Caller | undefined;
    if (clientAuth !== 'off') {
      // Mutual TLS (auth/client-cert.ts): a verified client certificate names the token it acts as.
      const viaCertificate = await authenticateCertificate(request.raw.socket, service);
      if (viaCertificate && 'refused' in viaCertificate)
        throw new GatewayError('E_UNAUTHENTICATED', viaCertificate.refused);
      if (clientAuth === 'required' && header)
        throw new GatewayError(
          'E_UNAUTHENTICATED',
          'bearer tokens are off on this gateway (tls.clientAuth "required"): authenticate with the client certificate only',
        );
      caller = viaCertificate?.caller;
    }
    const m = typeof header === 'string' ? BEARER.exec(header) : null;
    if (caller && header) {
      const viaToken = m ? await service.authenticate(m[1]!) : undefined;
      if (viaToken?.token.id !== caller.token.id)
        throw new GatewayError(
          'E_UNAUTHENTICATED',
          'the bearer token and the client certificate name different tokens: send one of them',
        );
    } else if (m) caller = await service.authenticate(m[1]!);
    if (!caller) {
      reply.header('www-authenticate', 'Bearer realm="torgo"');
      throw new GatewayError(
        'E_UNAUTHENTICATED',
        header
          ? 'the bearer token is not valid (unknown, malformed or revoked)'
          : clientAuth === 'off'
            ? 'this route needs "Authorization: Bearer <token>"'
            : 'this route needs a client certificate or "Authorization: Bearer <token>"',
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
