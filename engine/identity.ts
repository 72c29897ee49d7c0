/**
 * Embedded identities: one certificate authority per MSP id, kept under `<data dir>/msp/<mspId>/`,
 * issuing real X.509 certificates (ECDSA P-256 / SHA-256) shaped like Fabric CA enrolment certificates:
 * subject `OU=client, CN=<name>`, the Fabric attribute extension (OID 1.2.3.4.5.6.7.8.1, value
 * `{"attrs":{…}}`, what `fabric-ca-client enroll` puts there) carrying roles such as `torgo.role`.
 * fabric-shim's own ClientIdentity parses them, so a contract sees the same `getMSPID()`, `getID()` and
 * `getAttributeValue()` as on a Fabric peer.
 *
 * Like an MSP, the engine accepts a creator only if its certificate was issued by the CA of the MSP it
 * claims and is within its validity period.
 */
import {
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson } from './canonical.js';
import { EngineError } from './errors.js';
import { clientIdentityOf } from './shim.js';
import { issueCertificate, KeyUsageFlags, NAME_OID } from './x509.js';

/** Who submits: what a Fabric client sends as the proposal creator. */
export interface Identity {
  mspId: string;
  /** PEM certificate. */
  certificate: string;
}

/** An identity as issued, with its signing key (PEM, PKCS#8). Keep the key as secret as any credential. */
export interface EmbeddedIdentity extends Identity {
  privateKey: string;
}

export interface IdentityRequest {
  mspId: string;
  /** Becomes the certificate's CN: the enrolment id. */
  name: string;
  /** Certificate attributes, e.g. `{ 'torgo.role': 'appender' }`. `hf.*` names are reserved, as in Fabric CA. */
  attrs?: Readonly<Record<string, string>>;
  /** Default 3650. */
  validityDays?: number;
}

/** A creator the engine has checked: what the stub hands to the contract and what blocks record. */
export interface Creator {
  mspId: string;
  /** PEM bytes, Fabric's `SerializedIdentity.id_bytes`. */
  idBytes: Uint8Array;
  /** Protobuf `msp.SerializedIdentity`, the bytes a Fabric tx id is computed over. */
  serialized: Buffer;
  /** ClientIdentity's `x509::<subject>::<issuer>`. */
  id: string;
  notBefore: Date;
  notAfter: Date;
}

/** The OID under which Fabric CA stores attributes, read by fabric-shim's ClientIdentity. */
export const FABRIC_ATTRS_OID = '1.2.3.4.5.6.7.8.1';

const MSP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const CA_VALIDITY_DAYS = 36500;
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const CREATOR_CACHE_LIMIT = 1024;

interface Authority {
  key: KeyObject;
  cert: X509Certificate;
}

export class EmbeddedCA {
  private readonly authorities = new Map<string, Authority>();
  private readonly creating = new Map<string, Promise<Authority>>();
  private readonly creators = new Map<string, Creator>();

  /** `mspDir` is `<data dir>/msp`; nothing is read or created until an MSP is used. */
  constructor(readonly mspDir: string) {}

  /** Issue a certificate for `name` in `mspId`, creating that MSP's CA on first use. */
  async createIdentity(request: IdentityRequest): Promise<EmbeddedIdentity> {
    const { mspId, name } = request;
    checkMspId(mspId);
    if (typeof name !== 'string' || name.length === 0 || name.length > 64 || /[\p{Cc}]/u.test(name)) {
      throw new EngineError('E_ARGUMENT', 'identity name must be 1–64 characters without control characters');
    }
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.attrs ?? {})) {
      if (k.length === 0 || k.startsWith('hf.') || typeof v !== 'string') {
        throw new EngineError('E_ARGUMENT', `attribute "${k}" is reserved or not a string`);
      }
      attrs[k] = v;
    }
    // Fabric CA adds these three to every enrolment certificate that carries attributes.
    attrs['hf.Affiliation'] = '';
    attrs['hf.EnrollmentID'] = name;
    attrs['hf.Type'] = 'client';

    const ca = await this.authority(mspId, true);
    if (!ca) throw new EngineError('E_IDENTITY', `no certificate authority for MSP ${mspId}`);
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const now = Date.now();
    const certificate = issueCertificate({
      subject: [
        [NAME_OID.organizationalUnitName, 'client'],
        [NAME_OID.commonName, name],
      ],
      issuer: { certificate: ca.cert, key: ca.key },
      publicKey,
      notBefore: new Date(now - CLOCK_SKEW_MS),
      notAfter: new Date(now + (request.validityDays ?? 3650) * DAY_MS),
      keyUsage: KeyUsageFlags.digitalSignature,
      extensions: [{ oid: FABRIC_ATTRS_OID, value: Buffer.from(canonicalJson({ attrs }), 'utf8') }],
    });
    return {
      mspId,
      certificate,
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  }

  /** Check a creator like an MSP would; the result is cached per certificate. */
  async verify(identity: Identity, now = new Date()): Promise<Creator> {
    const { mspId, certificate } = identity ?? {};
    if (typeof mspId !== 'string' || typeof certificate !== 'string') {
      throw new EngineError('E_IDENTITY', 'identity must have an mspId and a PEM certificate');
    }
    const cacheKey = `${mspId}\n${certificate}`;
    let creator = this.creators.get(cacheKey);
    if (!creator) {
      creator = await this.check(mspId, certificate);
      if (this.creators.size >= CREATOR_CACHE_LIMIT) this.creators.clear();
      this.creators.set(cacheKey, creator);
    }
    if (now < creator.notBefore || now > creator.notAfter) {
      throw new EngineError('E_IDENTITY', `the creator certificate is not valid at ${now.toISOString()}`, {
        mspId,
      });
    }
    return creator;
  }

  private async check(mspId: string, certificate: string): Promise<Creator> {
    if (!MSP_ID.test(mspId)) throw new EngineError('E_IDENTITY', `unknown MSP ${JSON.stringify(mspId)}`);
    const ca = await this.authority(mspId, false);
    if (!ca) throw new EngineError('E_IDENTITY', `unknown MSP ${mspId}: no certificate authority`, { mspId });
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certificate);
    } catch (e) {
      throw new EngineError('E_IDENTITY', 'the creator certificate cannot be parsed', { mspId }, e);
    }
    if (!cert.checkIssued(ca.cert) || !cert.verify(ca.cert.publicKey)) {
      throw new EngineError('E_IDENTITY', `the creator certificate was not issued by the CA of ${mspId}`, {
        mspId,
      });
    }
    const idBytes = Buffer.from(certificate, 'utf8');
    return {
      mspId,
      idBytes,
      serialized: serializeIdentity(mspId, idBytes),
      // The id string is whatever fabric-shim's ClientIdentity makes of it: ask it.
      id: clientIdentityOf(mspId, idBytes).getID(),
      notBefore: cert.validFromDate,
      notAfter: cert.validToDate,
    };
  }

  /** Load (or with `create`, make) the CA of one MSP; concurrent creators share one creation. */
  private async authority(mspId: string, create: boolean): Promise<Authority | undefined> {
    const known = this.authorities.get(mspId) ?? (await this.creating.get(mspId));
    if (known) return known;
    const loaded = await loadAuthority(this.mspDir, mspId);
    if (loaded) {
      this.authorities.set(mspId, loaded);
      return loaded;
    }
    if (!create) return undefined;
    let creation = this.creating.get(mspId);
    if (!creation) {
      creation = createAuthority(this.mspDir, mspId).finally(() => this.creating.delete(mspId));
      this.creating.set(mspId, creation);
    }
    const created = await creation;
    this.authorities.set(mspId, created);
    return created;
  }
}

function checkMspId(mspId: string): void {
  if (typeof mspId !== 'string' || !MSP_ID.test(mspId)) {
    throw new EngineError(
      'E_ARGUMENT',
      'mspId must be 1–64 characters of A–Z a–z 0–9 . _ - (it names a folder)',
    );
  }
}

async function loadAuthority(mspDir: string, mspId: string): Promise<Authority | undefined> {
  const dir = path.join(mspDir, mspId);
  let keyPem: string;
  let certPem: string;
  try {
    [keyPem, certPem] = await Promise.all([
      readFile(path.join(dir, 'ca-key.pem'), 'utf8'),
      readFile(path.join(dir, 'ca-cert.pem'), 'utf8'),
    ]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return { key: createPrivateKey(keyPem), cert: new X509Certificate(certPem) };
}

/**
 * Create an MSP's CA atomically: both files are written into a fresh folder which is then renamed into
 * place, so a crash leaves either no CA or a complete one. The key file is mode 0600.
 */
async function createAuthority(mspDir: string, mspId: string): Promise<Authority> {
  await mkdir(mspDir, { recursive: true, mode: 0o700 });
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = Date.now();
  const certPem = issueCertificate({
    // The CA's subject, and so every issued certificate's issuer: `O=<mspId>, CN=ca.<mspId>`.
    subject: [
      [NAME_OID.organizationName, mspId],
      [NAME_OID.commonName, `ca.${mspId}`],
    ],
    issuer: { self: privateKey },
    publicKey,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + CA_VALIDITY_DAYS * DAY_MS),
    keyUsage: KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
    ca: {},
  });
  const staging = path.join(mspDir, `.${mspId}.${randomBytes(6).toString('hex')}`);
  await mkdir(staging, { mode: 0o700 });
  try {
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await writeFile(path.join(staging, 'ca-key.pem'), keyPem, { mode: 0o600, flush: true });
    await writeFile(path.join(staging, 'ca-cert.pem'), certPem, { mode: 0o644, flush: true });
    await rename(staging, path.join(mspDir, mspId));
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    // Another process won the race: use its CA.
    const existing = await loadAuthority(mspDir, mspId);
    if (existing) return existing;
    throw e;
  }
  return { key: privateKey, cert: new X509Certificate(certPem) };
}

/** Protobuf `msp.SerializedIdentity { string mspid = 1; bytes id_bytes = 2; }`. */
export function serializeIdentity(mspId: string, idBytes: Uint8Array): Buffer {
  const msp = Buffer.from(mspId, 'utf8');
  return Buffer.concat([
    Buffer.from([0x0a]),
    varint(msp.length),
    msp,
    Buffer.from([0x12]),
    varint(idBytes.length),
    idBytes,
  ]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}
