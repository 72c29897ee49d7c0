/**
 * Who is calling and what they may do. Roles come from the caller's certificate attribute
 * `torgo.role` (Fabric CA puts `--id.attrs torgo.role=…:ecert` there), a comma-separated list of
 * appender, auditor, admin, log-operator; unknown values are ignored. The caller's identity is its
 * MSP id plus the certificate's `x509::<subject>::<issuer>` id, as fabric-shim's ClientIdentity
 * reports it: unique within the MSP, and the same on every peer.
 */
import type { Context } from 'fabric-contract-api';
import type { ClientIdentity } from 'fabric-shim-api';
import { ContractError } from './errors.js';

/** The one role list: the contract enforces it, the gateway (gateway/auth) imports it from here. */
export const ROLES = ['appender', 'auditor', 'admin', 'log-operator'] as const;
export type Role = (typeof ROLES)[number];
export const ROLE_ATTRIBUTE = 'torgo.role';

/**
 * The roles an identity's `torgo.role` attribute grants, read through fabric-shim's ClientIdentity
 * (the parser a peer runs): a comma-separated list, unknown values ignored. The gateway reads a
 * certificate's roles with this same function (gateway/auth/roles.ts).
 */
export function rolesOf(identity: Pick<ClientIdentity, 'getAttributeValue'>): Set<Role> {
  const roles = new Set<Role>();
  for (const part of (identity.getAttributeValue(ROLE_ATTRIBUTE) ?? '').split(',')) {
    const role = ROLES.find((r) => r === part.trim());
    if (role) roles.add(role);
  }
  return roles;
}

/** A Fabric identity as recorded on the ledger (key owner, submitter, revoker…). */
export type Party = { readonly mspId: string; readonly id: string };

export interface Caller extends Party {
  readonly roles: ReadonlySet<Role>;
}

export function callerOf(ctx: Context): Caller {
  const ci = ctx.clientIdentity;
  return { mspId: ci.getMSPID(), id: ci.getID(), roles: rolesOf(ci) };
}

export function hasRole(caller: Caller, ...allowed: Role[]): boolean {
  return allowed.some((r) => caller.roles.has(r));
}

/** `FORBIDDEN: role appender may not <action>` unless the caller holds one of `allowed`. */
export function requireRole(caller: Caller, action: string, ...allowed: Role[]): void {
  if (!hasRole(caller, ...allowed)) throw forbidden(caller, action);
}

export function forbidden(caller: Caller, action: string): ContractError {
  const held = [...caller.roles].sort().join(',');
  const who = held ? `role ${held}` : `an identity without a ${ROLE_ATTRIBUTE} attribute`;
  return new ContractError('FORBIDDEN', `${who} may not ${action}`);
}

export function sameParty(a: Party, b: Party): boolean {
  return a.mspId === b.mspId && a.id === b.id;
}

export function party(p: Party): Party {
  return { mspId: p.mspId, id: p.id };
}
