/**
 * Development certificates for loopback HTTPS (`torgo tls dev-cert`, `torgo tls client-cert`): a
 * small CA, a server certificate for localhost / 127.0.0.1 / ::1 (and any names asked for), and client
 * certificates whose subject CN is a token id (auth/client-cert.ts). ECDSA P-256, issued by the same
 * X.509 profile as the embedded ledger's CA (engine/x509.ts). Keys are written 0600;
 * no file is overwritten. Not for production: a real deployment uses its organisation's CA.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type DistinguishedName, issueCertificate, KeyUsageFlags, NAME_OID } from '../../engine/x509.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const CLOCK_SKEW_MS = 5 * 60 * 1000;
export const CA_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca.key.pem';
export const SERVER_FILE = 'server.pem';
export const SERVER_KEY_FILE = 'server.key.pem';
export const DEFAULT_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];
const HOST_NAME =
  /^(?=.{1,253}$)(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export class DevCertError extends Error {
  override readonly name = 'DevCertError';
  constructor(
    readonly code: 'E_CERT_EXISTS' | 'E_CERT_ARGUMENT' | 'E_CERT_CA',
    message: string,
  ) {
    super(message);
  }
}

/** The subjectAltNames of `hosts`: IP addresses as iPAddress, anything else must be a host name (dNSName). */
function subjectAltNames(hosts: readonly string[]): Array<{ dns: string } | { ip: string }> {
  return hosts.map((h) => {
    if (isIP(h)) return { ip: h };
    if (!HOST_NAME.test(h)) throw new DevCertError('E_CERT_ARGUMENT', `not a host name or IP address: ${h}`);
    return { dns: h.toLowerCase() };
  });
}

const subjectName = (commonName: string): DistinguishedName => [
  [NAME_OID.organizationName, 'TORGO Ledger development'],
  [NAME_OID.commonName, commonName],
];

async function writeNew(file: string, text: string, mode: number): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'wx', mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new DevCertError(
        'E_CERT_EXISTS',
        `${file} exists: not overwritten (remove it, or choose another --dir)`,
      );
    throw e;
  }
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function refuseExisting(files: readonly string[]): Promise<void> {
  for (const f of files) {
    const exists = await open(f, 'r').then(
      async (h) => {
        await h.close();
        return true;
      },
      () => false,
    );
    if (exists)
      throw new DevCertError(
        'E_CERT_EXISTS',
        `${f} exists: not overwritten (remove it, or choose another --dir)`,
      );
  }
}

interface Leaf {
  commonName: string;
  hosts?: readonly string[];
  usage: 'server' | 'client';
  validityDays: number;
}

function issueLeaf(ca: { key: KeyObject; cert: X509Certificate }, leaf: Leaf): { cert: string; key: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = Date.now();
  const cert = issueCertificate({
    subject: subjectName(leaf.commonName),
    issuer: { certificate: ca.cert, key: ca.key },
    publicKey,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + leaf.validityDays * DAY_MS),
    keyUsage: KeyUsageFlags.digitalSignature,
    extendedKeyUsage: [leaf.usage === 'server' ? 'serverAuth' : 'clientAuth'],
    ...(leaf.hosts ? { subjectAltNames: subjectAltNames(leaf.hosts) } : {}),
  });
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

export interface DevCertResult {
  readonly dir: string;
  readonly files: readonly string[];
  readonly hosts: readonly string[];
  readonly notAfter: string;
}

/** Creates `<dir>/{ca,ca.key,server,server.key}.pem`; fails if any exists. */
export async function createDevCertificates(options: {
  dir: string;
  hosts?: readonly string[];
  validityDays?: number;
}): Promise<DevCertResult> {
  const days = options.validityDays ?? 90;
  if (!Number.isInteger(days) || days < 1 || days > 825)
    throw new DevCertError('E_CERT_ARGUMENT', '--days must be an integer from 1 to 825');
  const hosts = [...new Set([...DEFAULT_HOSTS, ...(options.hosts ?? [])])];
  subjectAltNames(hosts); // validate before writing anything
  const dir = path.resolve(options.dir);
  const files = [CA_FILE, CA_KEY_FILE, SERVER_FILE, SERVER_KEY_FILE].map((f) => path.join(dir, f));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await refuseExisting(files);

  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = Date.now();
  const caPem = issueCertificate({
    subject: subjectName('TORGO development CA'),
    issuer: { self: privateKey },
    publicKey,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + days * DAY_MS),
    keyUsage: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
    ca: { pathLength: 0 },
  });
  const ca = { key: privateKey, cert: new X509Certificate(caPem) };
  const server = issueLeaf(ca, { commonName: hosts[0]!, hosts, usage: 'server', validityDays: days });
  const [caFile, caKeyFile, serverFile, serverKeyFile] = files as [string, string, string, string];
  await writeNew(caKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
  await writeNew(caFile, caPem, 0o644);
  await writeNew(serverKeyFile, server.key, 0o600);
  await writeNew(serverFile, server.cert, 0o644);
  return { dir, files, hosts, notAfter: new X509Certificate(server.cert).validToDate.toISOString() };
}

/** Issues `<dir>/client-<tokenId>{,.key}.pem` from the development CA in `dir`. */
export async function createClientCertificate(options: {
  dir: string;
  tokenId: string;
  validityDays?: number;
}): Promise<DevCertResult> {
  if (!/^[0-9a-f]{16}$/.test(options.tokenId))
    throw new DevCertError('E_CERT_ARGUMENT', 'the token id is 16 hex digits (see `torgo token list`)');
  const days = options.validityDays ?? 90;
  if (!Number.isInteger(days) || days < 1 || days > 825)
    throw new DevCertError('E_CERT_ARGUMENT', '--days must be an integer from 1 to 825');
  const dir = path.resolve(options.dir);
  let ca: { key: KeyObject; cert: X509Certificate };
  try {
    const [certPem, keyPem] = await Promise.all([
      readFile(path.join(dir, CA_FILE), 'utf8'),
      readFile(path.join(dir, CA_KEY_FILE), 'utf8'),
    ]);
    ca = { cert: new X509Certificate(certPem), key: createPrivateKey(keyPem) };
  } catch (e) {
    throw new DevCertError(
      'E_CERT_CA',
      `no development CA in ${dir} (run \`torgo tls dev-cert --dir ${options.dir}\` first): ${(e as Error).message}`,
    );
  }
  const files = [`client-${options.tokenId}.pem`, `client-${options.tokenId}.key.pem`].map((f) =>
    path.join(dir, f),
  );
  await refuseExisting(files);
  const client = issueLeaf(ca, { commonName: options.tokenId, usage: 'client', validityDays: days });
  await writeNew(files[1]!, client.key, 0o600);
  await writeNew(files[0]!, client.cert, 0o644);
  return { dir, files, hosts: [], notAfter: new X509Certificate(client.cert).validToDate.toISOString() };
}
