/**
 * Checks of the TLS settings that a schema cannot express (config.ts calls it): files given in
 * pairs, group lists OpenSSL accepts, and `requirePostQuantum` leaving at least one PQ group.
 */
import { createSecureContext } from 'node:tls';
import { postQuantumOnly } from './groups.js';

function groupListProblem(what: string, list: string): string | undefined {
  try {
    createSecureContext({ ecdhCurve: list });
    return undefined;
  } catch (e) {
    return `${what}: OpenSSL does not accept the group list "${list}" (${(e as Error).message})`;
  }
}

export function tlsProblems(tls: unknown, fabricGroups: unknown): string[] {
  const problems: string[] = [];
  if (typeof fabricGroups === 'string') {
    const p = groupListProblem('fabric.tlsGroups', fabricGroups);
    if (p) problems.push(p);
  }
  if (!tls || typeof tls !== 'object' || Array.isArray(tls)) return problems;
  const t = tls as Record<string, unknown>;
  const on = t['cert'] !== undefined || t['key'] !== undefined;
  if (on && (typeof t['cert'] !== 'string' || typeof t['key'] !== 'string')) {
    problems.push('tls: give both tls.cert and tls.key (PEM files), or neither for plain HTTP');
  }
  if (typeof t['groups'] === 'string') {
    const p = groupListProblem('tls.groups', t['groups']);
    if (p) problems.push(p);
    else if (t['requirePostQuantum'] === true && postQuantumOnly(t['groups']) === '') {
      problems.push(
        `tls.requirePostQuantum: tls.groups "${t['groups']}" holds no post-quantum group (e.g. X25519MLKEM768)`,
      );
    }
  }
  if (t['clientAuth'] !== undefined && t['clientAuth'] !== 'off') {
    if (typeof t['clientCa'] !== 'string')
      problems.push(`tls.clientAuth "${String(t['clientAuth'])}" needs tls.clientCa (PEM of the client CA)`);
    if (!on) problems.push('tls.clientAuth needs TLS on (tls.cert and tls.key)');
  } else if (t['clientCa'] !== undefined) {
    problems.push('tls.clientCa is set but tls.clientAuth is "off": set it to "optional" or "required"');
  }
  if (!on && t['requirePostQuantum'] === true) {
    problems.push('tls.requirePostQuantum needs TLS on (tls.cert and tls.key)');
  }
  return problems;
}
