/**
 * Mutual TLS: a client certificate stands for a token. A certificate that chains to `tls.clientCa`
 * and whose subject CN is a token id (16 hex digits, as `torgo token list` shows) authenticates as
 * that token: its roles, its wallet identity, its revocation. No bearer secret crosses the wire, and
 * revoking the token refuses the certificate at once. The CA decides which certificates exist; this
 * module only maps a verified one to a token.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { GatewayService } from '../service.js';
import { type Caller, callerFor } from './caller.js';

const TOKEN_ID = /^[0-9a-f]{16}$/;

export type CertificateAuthentication =
  | { readonly caller: Caller; readonly tokenId: string }
  | { readonly refused: string };

/** Undefined when the connection carries no client certificate (plain HTTP, or none presented). */
export async function authenticateCertificate(
  socket: Socket | TLSSocket,
  service: GatewayService,
): Promise<CertificateAuthentication | undefined> {
  const tls = socket as TLSSocket;
  if (tls.encrypted !== true || typeof tls.getPeerCertificate !== 'function') return undefined;
  const cert = tls.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  if (!tls.authorized) {
    return {
      refused: `the client certificate is not trusted (${String(tls.authorizationError ?? 'not issued by tls.clientCa')})`,
    };
  }
  const cn = Array.isArray(cert.subject?.CN) ? undefined : cert.subject?.CN;
  if (typeof cn !== 'string' || !TOKEN_ID.test(cn)) {
    return { refused: "the client certificate's subject CN is not a token id (16 hex digits)" };
  }
  const record = service.tokens.get(cn);
  if (!record || record.revokedAt) {
    return { refused: `the client certificate names token ${cn}, which is unknown or revoked` };
  }
  const identity = await service.wallet.get(record.identity);
  if (!identity) return { refused: `token ${cn}: its identity ${record.identity} is not in the wallet` };
  return { caller: callerFor(record, identity), tokenId: cn };
}
