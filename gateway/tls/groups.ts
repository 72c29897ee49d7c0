/**
 * TLS key-exchange groups: their IANA code points (TLS Supported Groups registry), which of them are
 * post-quantum, and how to read the group a finished handshake negotiated.
 *
 * Node 24 reports no group for hybrid key exchange (`getEphemeralKeyInfo()` answers an empty object
 * on the client and `null` on a server), so the group is read where OpenSSL records it: the session,
 * whose DER form (OpenSSL ≥ 3.2, `i2d_SSL_SESSION`, ssl/ssl_asn1.c) carries `kex_group` as the
 * explicitly tagged `[19] INTEGER`. Node's `getSession()` gives those bytes on clients and servers.
 */
import type { TLSSocket } from 'node:tls';

/** IANA TLS Supported Groups code points → the names OpenSSL (and our settings) use. */
const GROUP_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0017, 'P-256'],
  [0x0018, 'P-384'],
  [0x0019, 'P-521'],
  [0x001d, 'X25519'],
  [0x001e, 'X448'],
  [0x0100, 'ffdhe2048'],
  [0x0101, 'ffdhe3072'],
  [0x0102, 'ffdhe4096'],
  [0x0200, 'MLKEM512'],
  [0x0201, 'MLKEM768'],
  [0x0202, 'MLKEM1024'],
  [0x11eb, 'SecP256r1MLKEM768'],
  [0x11ec, 'X25519MLKEM768'],
  [0x11ed, 'SecP384r1MLKEM1024'],
]);

/** Groups whose shared secret stays secret against a quantum computer (ML-KEM, FIPS 203, alone or hybrid). */
export const POST_QUANTUM_GROUPS: readonly string[] = [
  'X25519MLKEM768',
  'SecP256r1MLKEM768',
  'SecP384r1MLKEM1024',
  'MLKEM512',
  'MLKEM768',
  'MLKEM1024',
];

/** The hybrid group every client and server here prefers (draft-ietf-tls-ecdhe-mlkem). */
export const HYBRID_GROUP = 'X25519MLKEM768';

const CANONICAL = new Map(
  [...GROUP_NAMES.values(), 'secp256r1', 'secp384r1', 'secp521r1', 'prime256v1'].map((n) => [
    n.toLowerCase(),
    n,
  ]),
);

export function isPostQuantum(group: string): boolean {
  return POST_QUANTUM_GROUPS.includes(group);
}

/**
 * The group names of an OpenSSL group list (`X25519MLKEM768:X25519 / P-256`, with OpenSSL 3.5's
 * `?` (ignore if unknown) and `*` (send a key share) prefixes), in order, without the prefixes.
 */
export function groupNames(list: string): string[] {
  return list
    .split(/[:/]/)
    .map((g) => g.trim().replace(/^[?*-]+/, ''))
    .filter((g) => g.length > 0)
    .map((g) => CANONICAL.get(g.toLowerCase()) ?? g);
}

/** Only the post-quantum groups of a list, keeping its order (what `requirePostQuantum` leaves). */
export function postQuantumOnly(list: string): string {
  return groupNames(list).filter(isPostQuantum).join(':');
}

function readLength(der: Uint8Array, at: number): { length: number; start: number } | undefined {
  const first = der[at];
  if (first === undefined) return undefined;
  if (first < 0x80) return { length: first, start: at + 1 };
  const n = first & 0x7f;
  if (n === 0 || n > 3) return undefined;
  let length = 0;
  for (let i = 1; i <= n; i++) length = length * 256 + (der[at + i] ?? 0);
  return { length, start: at + 1 + n };
}

/** `[19] EXPLICIT INTEGER` of OpenSSL's SSL_SESSION_ASN1 SEQUENCE: the key-exchange group. */
const KEX_GROUP_TAG = 0xa0 | 19;

/**
 * The negotiated group's code point from DER session bytes, or undefined. Only the top level of the
 * SEQUENCE is walked; nothing else is read (the session holds the master secret: never log it).
 */
export function kexGroupOfSession(der: Uint8Array): number | undefined {
  if (der[0] !== 0x30) return undefined;
  const outer = readLength(der, 1);
  if (!outer) return undefined;
  const end = Math.min(der.length, outer.start + outer.length);
  let at = outer.start;
  while (at < end) {
    const tag = der[at]!;
    const len = readLength(der, at + 1);
    if (!len || len.start + len.length > end) return undefined;
    if (tag === KEX_GROUP_TAG) {
      // INTEGER inside the explicit tag
      if (der[len.start] !== 0x02) return undefined;
      const inner = readLength(der, len.start + 1);
      if (
        !inner ||
        inner.length < 1 ||
        inner.length > 4 ||
        inner.start + inner.length > len.start + len.length
      )
        return undefined;
      let value = 0;
      for (let i = 0; i < inner.length; i++) value = value * 256 + (der[inner.start + i] ?? 0);
      return value;
    }
    at = len.start + len.length;
  }
  return undefined;
}

/** The name of a group code point (`0x11ec` → `X25519MLKEM768`; unknown ones as `0x….`). */
export function groupName(code: number): string {
  return GROUP_NAMES.get(code) ?? `0x${code.toString(16).padStart(4, '0')}`;
}

/**
 * The key-exchange group a TLS connection negotiated (`X25519MLKEM768`, `X25519`…), or `unknown`
 * when the runtime does not record it (a TLS library without `kex_group` in its sessions).
 */
export function negotiatedGroup(socket: TLSSocket): string {
  const session = socket.getSession();
  const code = session ? kexGroupOfSession(session) : undefined;
  if (code !== undefined) return groupName(code);
  // Classical groups are also reported by getEphemeralKeyInfo on clients.
  const info = socket.getEphemeralKeyInfo();
  const name = info && typeof info === 'object' ? (info as { name?: string }).name : undefined;
  return name ? (CANONICAL.get(name.toLowerCase()) ?? name) : 'unknown';
}
