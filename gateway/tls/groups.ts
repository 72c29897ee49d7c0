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
import { Constructed, fromBER, Integer, Sequence } from 'asn1js';

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

/** `[19] EXPLICIT INTEGER` of OpenSSL's SSL_SESSION_ASN1 SEQUENCE: the key-exchange group. */
const KEX_GROUP_TAG = 19;
const CONTEXT_SPECIFIC = 3;

/**
 * The negotiated group's code point from DER session bytes, or undefined. Parsed with asn1js (the
 * ASN.1 library under core's key encoding); only the top level's `[19]` is read (the session holds
 * the master secret: never log it).
 */
export function kexGroupOfSession(der: Uint8Array): number | undefined {
  const { offset, result } = fromBER(der);
  if (offset === -1 || offset !== der.length || !(result instanceof Sequence)) return undefined;
  const tagged = result.valueBlock.value.find(
    (n) => n.idBlock.tagClass === CONTEXT_SPECIFIC && n.idBlock.tagNumber === KEX_GROUP_TAG,
  );
  const inner = tagged instanceof Constructed ? tagged.valueBlock.value : [];
  const bytes =
    inner.length === 1 && inner[0] instanceof Integer ? inner[0].valueBlock.valueHexView : undefined;
  // A non-negative INTEGER of at most 4 bytes (code points are 16-bit).
  if (!bytes || bytes.length < 1 || bytes.length > 4 || (bytes[0]! & 0x80) !== 0) return undefined;
  return bytes.reduce((value, b) => value * 256 + b, 0);
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
