/**
 * The roles a certificate grants: Fabric CA puts enrolment attributes in an X.509 extension
 * (OID 1.2.3.4.5.6.7.8.1, an OCTET STRING holding `{"attrs":{…}}`); the contract reads `torgo.role`
 * from it (chaincode/identity.ts). The gateway reads the same attribute so a token's roles are the
 * roles its identity really has on the ledger.
 */
import { X509Certificate } from 'node:crypto';
import { ROLES, type Role } from './tokens.js';

/** DER of OBJECT IDENTIFIER 1.2.3.4.5.6.7.8.1. */
const ATTRS_OID = Buffer.from([0x06, 0x08, 0x2a, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x01]);

function readLength(der: Buffer, at: number): { length: number; start: number } | undefined {
  const first = der[at];
  if (first === undefined) return undefined;
  if (first < 0x80) return { length: first, start: at + 1 };
  const n = first & 0x7f;
  if (n === 0 || n > 4) return undefined;
  let length = 0;
  for (let i = 1; i <= n; i++) length = length * 256 + (der[at + i] ?? 0);
  return { length, start: at + 1 + n };
}

/** The Fabric CA attributes of a PEM certificate ({} when it has none). */
export function certificateAttributes(pem: string): Record<string, string> {
  const der = Buffer.from(new X509Certificate(pem).raw);
  const oid = der.indexOf(ATTRS_OID);
  if (oid < 0) return {};
  let at = oid + ATTRS_OID.length;
  if (der[at] === 0x01) at += 3; // critical BOOLEAN
  if (der[at] !== 0x04) return {};
  const len = readLength(der, at + 1);
  if (!len) return {};
  try {
    const parsed = JSON.parse(der.subarray(len.start, len.start + len.length).toString('utf8')) as {
      attrs?: unknown;
    };
    const attrs = parsed.attrs;
    if (!attrs || typeof attrs !== 'object') return {};
    return Object.fromEntries(
      Object.entries(attrs).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  } catch {
    return {};
  }
}

/** `torgo.role` of a certificate as a sorted role list; unknown values are ignored, as the contract does. */
export function certificateRoles(pem: string): Role[] {
  const value = certificateAttributes(pem)['torgo.role'] ?? '';
  const roles = new Set<Role>();
  for (const part of value.split(',')) {
    const role = ROLES.find((r) => r === part.trim());
    if (role) roles.add(role);
  }
  return [...roles].sort();
}
