/**
 * What an admin may hand out (docs/api.md#what-an-admin-can-and-cannot-do). An admin token creates
 * tokens for appender, auditor and admin identities; it never mints a token for the log operator's
 * identity or any identity holding `log-operator` (only the operator's own procedure at start does,
 * docs/operations.md), and never binds a second token to an identity: a bound identity gets a new
 * token only by rotation, which revokes the old one and is audited.
 */
import { GatewayError } from '../errors.js';
import type { Role } from '../../chaincode/identity.js';

/** Roles an admin may grant. `log-operator` is not among them. */
export const ADMIN_GRANTABLE: readonly Role[] = ['admin', 'appender', 'auditor'];

/** 403 E_ROLE_NOT_GRANTABLE unless every role is one an admin may grant. */
export function assertGrantable(roles: readonly Role[], identity?: string): void {
  const not = roles.filter((r) => !ADMIN_GRANTABLE.includes(r));
  if (not.length === 0) return;
  throw new GatewayError(
    'E_ROLE_NOT_GRANTABLE',
    `an admin may grant only ${ADMIN_GRANTABLE.join(', ')}; ${not.join(', ')} ${
      identity ? `(held by identity ${identity}) ` : ''
    }is issued only by the operator at start (docs/operations.md)`,
    { roles: not, grantable: ADMIN_GRANTABLE, ...(identity ? { identity } : {}) },
  );
}

/** 403 E_IDENTITY_RESERVED for the log operator's identity, whatever its certificate says. */
export function assertNotReserved(identity: string, reserved: readonly string[]): void {
  if (!reserved.includes(identity)) return;
  throw new GatewayError(
    'E_IDENTITY_RESERVED',
    `identity ${identity} is the log operator's: its token is minted only by the operator at start (torgo serve --log-operator-token-file)`,
    { identity },
  );
}
