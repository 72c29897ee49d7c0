/**
 * The roles a certificate grants: Fabric CA puts enrolment attributes in an X.509 extension
 * (OID 1.2.3.4.5.6.7.8.1, an OCTET STRING holding `{"attrs":{…}}`), and the contract reads
 * `torgo.role` from it through fabric-shim's ClientIdentity (chaincode/identity.ts `rolesOf`). The
 * gateway reads a certificate with the same ClientIdentity and the same `rolesOf`, so a token's roles
 * are the roles its identity really has on the ledger: one parser, one role list.
 */
import { type Role, rolesOf } from '../../chaincode/identity.js';
import { clientIdentityOf } from '../../engine/shim.js';

/** The identity fabric-shim makes of a PEM certificate, as a peer would for a creator presenting it. */
const clientIdentity = (pem: string) => clientIdentityOf('', Buffer.from(pem, 'utf8'));

/** One Fabric CA attribute of a PEM certificate (`null` when it has none), as the contract sees it. */
export function certificateAttribute(pem: string, name: string): string | null {
  return clientIdentity(pem).getAttributeValue(name);
}

/** `torgo.role` of a certificate as a sorted role list; unknown values are ignored, as the contract does. */
export function certificateRoles(pem: string): Role[] {
  return [...rolesOf(clientIdentity(pem))].sort();
}
