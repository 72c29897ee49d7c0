/**
 * X.509 v3 certificate issuance (RFC 5280 §4.1) for the embedded ledger's MSP certificate authorities
 * (engine/identity.ts) and the development TLS certificates (gateway/tls/devcert.ts): one profile of
 * fields, encoded through @peculiar/asn1-x509's schemas, signed ECDSA P-256 / SHA-256 by node:crypto.
 * Certificates are parsed by node:crypto and by fabric-shim's own parser, never by this file.
 */
import { createHash, type KeyObject, randomBytes, sign, type X509Certificate } from 'node:crypto';
import { AsnConvert, AsnParser, AsnSerializer, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_serverAuth,
} from '@peculiar/asn1-x509';

export { KeyUsageFlags };

/** Attribute types of the names we issue (RFC 5280 §4.1.2.4, X.520). */
export const NAME_OID = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
} as const;

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

/** A distinguished name as `[attribute type OID, value]` pairs, one per RDN, in order; values are UTF8String. */
export type DistinguishedName = ReadonlyArray<readonly [type: string, value: string]>;

/** Who signs: a CA's certificate and key. The issued certificate's issuer is the CA's subject, byte for byte. */
export interface Issuer {
  readonly certificate: X509Certificate;
  readonly key: KeyObject;
}

export interface CertificateTemplate {
  readonly subject: DistinguishedName;
  readonly publicKey: KeyObject;
  /** `'self'`: a self-signed CA certificate, signed by `signingKey`. */
  readonly issuer: Issuer | { readonly self: KeyObject };
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** RFC 5280 §4.2.1.3, critical. */
  readonly keyUsage: KeyUsageFlags;
  /** RFC 5280 §4.2.1.9, critical: a CA (with an optional path length) or an end entity (`cA` FALSE). */
  readonly ca?: { readonly pathLength?: number };
  /** RFC 5280 §4.2.1.12: `serverAuth` / `clientAuth`. */
  readonly extendedKeyUsage?: ReadonlyArray<'serverAuth' | 'clientAuth'>;
  /** RFC 5280 §4.2.1.6: DNS names and IP addresses (v4 or v6 text). */
  readonly subjectAltNames?: ReadonlyArray<{ readonly dns: string } | { readonly ip: string }>;
  /** Further non-critical extensions, e.g. Fabric CA's attributes: the DER-free value goes in the OCTET STRING. */
  readonly extensions?: ReadonlyArray<{ readonly oid: string; readonly value: Uint8Array }>;
}

/** Issue a certificate from `t`, PEM-encoded. */
export function issueCertificate(t: CertificateTemplate): string {
  const signingKey = 'self' in t.issuer ? t.issuer.self : t.issuer.key;
  const issuerKeyId = 'self' in t.issuer ? undefined : keyIdentifier(t.issuer.certificate.publicKey);
  const algorithm = new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialNumber(),
    signature: algorithm,
    issuer: 'self' in t.issuer ? distinguishedName(t.subject) : subjectOf(t.issuer.certificate),
    validity: new Validity({ notBefore: t.notBefore, notAfter: t.notAfter }),
    subject: distinguishedName(t.subject),
    subjectPublicKeyInfo: AsnConvert.parse(
      t.publicKey.export({ type: 'spki', format: 'der' }),
      SubjectPublicKeyInfo,
    ),
    extensions: new Extensions(extensionsOf(t, issuerKeyId)),
  });
  const tbsDer = Buffer.from(AsnSerializer.serialize(tbs));
  const signature = sign('sha256', tbsDer, signingKey); // DER ECDSA-Sig-Value (RFC 5758 §3.2)
  const certificate = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithm,
    signatureValue: toArrayBuffer(signature),
  });
  const b64 = Buffer.from(AsnSerializer.serialize(certificate)).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

function extensionsOf(t: CertificateTemplate, issuerKeyId: Buffer | undefined): Extension[] {
  const ext = (oid: string, critical: boolean, value: unknown): Extension =>
    new Extension({ extnID: oid, critical, extnValue: new OctetString(AsnSerializer.serialize(value)) });
  const out = [
    ext(id_ce_keyUsage, true, new KeyUsage(t.keyUsage)),
    ext(
      id_ce_basicConstraints,
      true,
      new BasicConstraints(t.ca ? { cA: true, pathLenConstraint: t.ca.pathLength } : {}),
    ),
  ];
  if (t.extendedKeyUsage) {
    const purposes = { serverAuth: id_kp_serverAuth, clientAuth: id_kp_clientAuth };
    out.push(ext(id_ce_extKeyUsage, false, new ExtendedKeyUsage(t.extendedKeyUsage.map((p) => purposes[p]))));
  }
  out.push(
    ext(
      id_ce_subjectKeyIdentifier,
      false,
      new SubjectKeyIdentifier(toArrayBuffer(keyIdentifier(t.publicKey))),
    ),
  );
  if (issuerKeyId) {
    const aki = new AuthorityKeyIdentifier({ keyIdentifier: new OctetString(toArrayBuffer(issuerKeyId)) });
    out.push(ext(id_ce_authorityKeyIdentifier, false, aki));
  }
  if (t.subjectAltNames) {
    const names = t.subjectAltNames.map((n) =>
      'dns' in n ? new GeneralName({ dNSName: n.dns }) : new GeneralName({ iPAddress: n.ip }),
    );
    out.push(ext(id_ce_subjectAltName, false, new SubjectAlternativeName(names)));
  }
  for (const { oid, value } of t.extensions ?? []) {
    out.push(
      new Extension({ extnID: oid, critical: false, extnValue: new OctetString(toArrayBuffer(value)) }),
    );
  }
  return out;
}

function distinguishedName(rdns: DistinguishedName): Name {
  return new Name(
    rdns.map(
      ([type, value]) =>
        new RelativeDistinguishedName([
          new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) }),
        ]),
    ),
  );
}

/** The issuer's subject as it is encoded in its certificate (RFC 5280 §4.1.2.4: name chaining compares them). */
function subjectOf(certificate: X509Certificate): Name {
  return AsnParser.parse(certificate.raw, Certificate).tbsCertificate.subject;
}

/** 16 random bytes, positive and without a leading zero octet (RFC 5280 §4.1.2.2: at most 20). */
function serialNumber(): ArrayBuffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01;
  return toArrayBuffer(serial);
}

/** SHA-256 of the EC point, as Fabric's BCCSP computes a key's SKI. */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([
    Buffer.from([0x04]),
    Buffer.from(jwk.x ?? '', 'base64url'),
    Buffer.from(jwk.y ?? '', 'base64url'),
  ]);
  return createHash('sha256').update(point).digest();
}

/** A fresh ArrayBuffer holding exactly `bytes` (the schemas keep ArrayBuffers; a Buffer may be a view into a pool). */
function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}
