/**
 * Who a request is. The one mapping from an authenticated credential to the identity the ledger
 * sees as submitter and the roles the gateway checks before any work: a bearer token today (its
 * bound wallet identity); a client certificate mapped to a wallet identity later uses the same
 * function, so both credentials get the same roles for the same identity.
 */
import type { WalletIdentity } from '../ledger/wallet.js';
import { certificateRoles } from './roles.js';
import type { Role } from '../../chaincode/identity.js';
import type { TokenRecord } from './tokens.js';

export interface Caller {
  /** The token the request authenticated with. */
  readonly token: TokenRecord;
  /** The identity the ledger records as submitter (the token's bound identity). */
  readonly identity: WalletIdentity;
  /**
   * What the gateway lets it do: the roles of the identity's certificate (what the contract
   * enforces) that the token was also issued with — never more than either.
   */
  readonly roles: readonly Role[];
  /** Stable key for rate limits and audit events: `token:<id>`. */
  readonly principal: string;
}

const rolesByCertificate = new Map<string, readonly Role[]>();

/** The roles in an identity's certificate (`torgo.role`), parsed once per certificate. */
export function identityRoles(identity: WalletIdentity): readonly Role[] {
  let roles = rolesByCertificate.get(identity.certificate);
  if (!roles) {
    roles = certificateRoles(identity.certificate);
    if (rolesByCertificate.size > 10_000) rolesByCertificate.clear();
    rolesByCertificate.set(identity.certificate, roles);
  }
  return roles;
}

/** The caller behind a live token and its bound identity. */
export function callerFor(token: TokenRecord, identity: WalletIdentity): Caller {
  const certified = identityRoles(identity);
  return {
    token,
    identity,
    roles: token.roles.filter((r) => certified.includes(r)),
    principal: `token:${token.id}`,
  };
}
