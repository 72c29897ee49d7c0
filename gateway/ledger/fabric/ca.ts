/**
 * The organisation's Fabric CA as the issuer of token identities on Fabric (`fabric-ca-client` 2.2):
 * a registrar registers a client identity whose `torgo.role` attribute (comma-separated sorted roles)
 * goes into the certificate (`ecert`), then it is enrolled with a fresh P-256 key. The result is a
 * wallet entry like those `network-config/identities.sh` writes, so the contract reads the same roles.
 *
 * The enrolment secret is random, used once (`maxEnrollments: 1`) and never kept or logged; the
 * private key never touches disk here (the caller's wallet stores it, mode 0600).
 */
import './sdk-logging.js';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import FabricCAServices from 'fabric-ca-client';
import { User } from 'fabric-common';
import type { FabricCAConfig } from '../../config.js';
import { GatewayError } from '../../errors.js';
import type { IdentityRequest } from '../driver.js';
import type { FileSystemWallet, WalletIdentity } from '../wallet.js';

/** fabric-ca-server's error code for a registration of an id it already has. */
const ALREADY_REGISTERED = 74;
/** Enrolment ids tried for one request before giving up (the first is the wallet label itself). */
const ATTEMPTS = 4;

interface CAErrorBody {
  errors?: { code?: number; message?: string }[];
}

/** The CA answered with errors (as opposed to not answering): fabric-ca-client puts them on the error. */
function caErrors(e: unknown): { code?: number; message?: string }[] {
  const errors = (e as CAErrorBody | undefined)?.errors;
  return Array.isArray(errors) ? errors : [];
}

/**
 * A failure of the CA as the gateway answers it: not reachable → 503 (retry); anything the CA
 * refused (registrar not allowed, bad attribute…) is the operator's to fix → 500, detail in the log.
 */
export function caFailure(e: unknown, url: string, what: string): GatewayError {
  if (e instanceof GatewayError) return e;
  if (caErrors(e).length === 0) {
    return new GatewayError(
      'E_UNAVAILABLE',
      `the certificate authority at ${url} is not reachable`,
      { stage: 'enroll' },
      { cause: e },
    );
  }
  return new GatewayError(
    'E_INTERNAL',
    `the certificate authority refused to ${what}`,
    { stage: 'enroll' },
    {
      cause: e,
    },
  );
}

interface RequestModule {
  request(options: object, callback: (response: unknown) => void): unknown;
}

/**
 * fabric-ca-client 2.2.20 adds a `timeout` listener (3 s) to each request's socket; with Node's
 * keep-alive agent (the default since Node 19) sockets are reused, the listeners pile up
 * (MaxListenersExceededWarning) and fire on idle sockets. The client was written for one
 * connection per request: give it that (`agent: false`). Private field, hence the exact pin.
 */
function oneConnectionPerRequest(services: FabricCAServices): void {
  const client = (services as unknown as { _fabricCAClient?: { _httpClient?: RequestModule } })
    ._fabricCAClient;
  const original = client?._httpClient;
  if (!client || !original) return;
  client._httpClient = {
    request: (options, callback) => original.request({ ...options, agent: false }, callback),
  };
}

export class FabricCA {
  private registrar: Promise<User> | undefined;

  private constructor(
    private readonly config: FabricCAConfig,
    private readonly services: FabricCAServices,
    private readonly wallet: FileSystemWallet,
    private readonly mspId: string,
  ) {}

  /**
   * `defaultMspId` is used when neither `ca.mspId` nor a wallet registrar says which organisation the
   * new identities belong to (service.ts passes the admin identity's).
   */
  static async open(
    config: FabricCAConfig,
    wallet: FileSystemWallet,
    defaultMspId: string | undefined,
  ): Promise<FabricCA> {
    // fabric-ca-client trusts nothing and verifies nothing unless told: verify always, against the
    // CA's own certificate when given (fabric-ca-server's TLS certificate chains to ca-cert.pem).
    const trustedRoots = config.tlsCaCert
      ? [await readFile(config.tlsCaCert, 'utf8')]
      : [...rootCertificates];
    const services = new FabricCAServices(config.url, { trustedRoots, verify: true }, config.caName);
    oneConnectionPerRequest(services);
    let mspId = config.mspId;
    if (!mspId && 'identity' in config.registrar)
      mspId = (await wallet.get(config.registrar.identity))?.mspId;
    mspId ??= defaultMspId;
    if (!mspId) {
      throw new GatewayError(
        'E_INTERNAL',
        'fabric.ca: cannot tell the MSP of issued identities: set fabric.ca.mspId',
      );
    }
    return new FabricCA(config, services, wallet, mspId);
  }

  /** The registrar as a fabric-common User: the wallet entry, or enrolled once per process. */
  private registrarUser(): Promise<User> {
    this.registrar ??= (async () => {
      const r = this.config.registrar;
      if ('identity' in r) {
        const identity = await this.wallet.get(r.identity);
        if (!identity) {
          throw new GatewayError(
            'E_INTERNAL',
            `fabric.ca.registrar: the wallet holds no identity labelled ${r.identity}`,
          );
        }
        return User.createUser(identity.label, '', identity.mspId, identity.certificate, identity.privateKey);
      }
      let enrolled: FabricCAServices.IEnrollResponse;
      try {
        enrolled = await this.services.enroll({
          enrollmentID: r.enrollmentId,
          enrollmentSecret: r.enrollmentSecret,
        });
      } catch (e) {
        throw caFailure(e, this.config.url, `enroll the registrar ${r.enrollmentId}`);
      }
      return User.createUser(r.enrollmentId, '', this.mspId, enrolled.certificate, enrolled.key.toBytes());
    })();
    // A failed attempt (CA down at the time) is not remembered.
    this.registrar.catch(() => {
      this.registrar = undefined;
    });
    return this.registrar;
  }

  /**
   * Registers and enrolls a client identity for `request.name` with `torgo.role` = its sorted roles.
   * The enrolment id is the label; if the CA already has that id (another gateway, an earlier
   * wallet), a random suffix is added.
   */
  readonly issue = async (request: IdentityRequest): Promise<WalletIdentity> => {
    const registrar = await this.registrarUser();
    const roles = [...new Set(request.roles)].sort().join(',');
    const secret = randomBytes(24).toString('base64url');
    let enrollmentID = request.name;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.services.register(
          {
            enrollmentID,
            enrollmentSecret: secret,
            role: 'client',
            affiliation: this.config.affiliation,
            maxEnrollments: 1,
            attrs: [{ name: 'torgo.role', value: roles, ecert: true }],
          },
          registrar,
        );
        break;
      } catch (e) {
        const taken = caErrors(e).some((x) => x.code === ALREADY_REGISTERED);
        if (!taken || attempt >= ATTEMPTS) throw caFailure(e, this.config.url, `register ${enrollmentID}`);
        enrollmentID = `${request.name}-${randomBytes(3).toString('hex')}`;
      }
    }
    let enrolled: FabricCAServices.IEnrollResponse;
    try {
      enrolled = await this.services.enroll({ enrollmentID, enrollmentSecret: secret });
    } catch (e) {
      throw caFailure(e, this.config.url, `enroll ${enrollmentID}`);
    }
    return {
      label: request.name,
      mspId: this.mspId,
      certificate: enrolled.certificate,
      privateKey: enrolled.key.toBytes(),
    };
  };
}
