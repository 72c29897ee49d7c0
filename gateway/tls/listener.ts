/**
 * The gateway's HTTPS listener settings and what it observes of each handshake. One listener serves
 * HTTP/2 and HTTP/1.1 (ALPN `h2`, `http/1.1`); the key exchange prefers the hybrid post-quantum group
 * X25519MLKEM768 and, with `requirePostQuantum`, accepts nothing else: TLS 1.3 with post-quantum groups
 * only, so a classical-only client fails the handshake (alert 40, handshake_failure) and the refusal is
 * logged and counted here.
 */
import { readFile } from 'node:fs/promises';
import type { SecureServerOptions } from 'node:http2';
import { createSecureContext, type TLSSocket } from 'node:tls';
import type { Counter, Registry } from 'prom-client';
import { Counter as PromCounter } from 'prom-client';
import { ConfigError, type TlsConfig } from '../config.js';
import { groupNames, negotiatedGroup, postQuantumOnly } from './groups.js';

/** The groups the listener really offers: all of `tls.groups`, or only its PQ ones. */
export function effectiveGroups(tls: TlsConfig): string {
  return tls.requirePostQuantum ? postQuantumOnly(tls.groups) : tls.groups;
}

/** Options for `http2.createSecureServer` (fastify `https`), files read now. */
export async function listenerOptions(tls: TlsConfig): Promise<SecureServerOptions> {
  if (!tls.cert || !tls.key) throw new ConfigError('TLS needs tls.cert and tls.key');
  const read = async (file: string, what: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (e) {
      throw new ConfigError(`cannot read ${what} ${file}: ${(e as Error).message}`);
    }
  };
  const [cert, key, ca] = await Promise.all([
    read(tls.cert, 'tls.cert'),
    read(tls.key, 'tls.key'),
    tls.clientAuth !== 'off' && tls.clientCa ? read(tls.clientCa, 'tls.clientCa') : undefined,
  ]);
  try {
    createSecureContext({ cert, key, ...(ca ? { ca } : {}) });
  } catch (e) {
    throw new ConfigError(
      `tls.cert ${tls.cert} and tls.key ${tls.key}${ca ? ` (and tls.clientCa ${tls.clientCa})` : ''} are not a usable PEM certificate chain and its key: ${(e as Error).message}`,
    );
  }
  return {
    allowHTTP1: true,
    cert,
    key,
    ecdhCurve: effectiveGroups(tls),
    minVersion: tls.requirePostQuantum ? 'TLSv1.3' : 'TLSv1.2',
    ...(ca
      ? {
          ca,
          requestCert: true,
          // `optional`: a connection without a certificate may still use a bearer token; a
          // certificate that does not chain to the client CA is never trusted (http/auth.ts checks).
          rejectUnauthorized: tls.clientAuth === 'required',
        }
      : {}),
  };
}

/** Why a handshake failed, as a metric label. */
export function failureReason(e: Error & { code?: string }): string {
  const code = e.code ?? '';
  if (/NO_SUITABLE_KEY_SHARE|NO_SHARED_GROUP|NO_SUITABLE_GROUPS/.test(code)) return 'no_shared_group';
  if (/UNSUPPORTED_PROTOCOL|VERSION_TOO_LOW|WRONG_VERSION_NUMBER/.test(code)) return 'protocol_version';
  if (/NO_SHARED_CIPHER/.test(code)) return 'no_shared_cipher';
  // An alert the client sent about our certificate (e.g. a browser that does not trust the CA).
  if (/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_|UNSUPPORTED_CERTIFICATE)/.test(code))
    return 'server_certificate_refused';
  if (/CERTIFICATE|PEER_DID_NOT_RETURN/.test(code)) return 'client_certificate';
  if (code === 'ECONNRESET' || /TIMEOUT/.test(code)) return 'aborted';
  if (/HTTP_REQUEST|UNEXPECTED_MESSAGE|PACKET_LENGTH|RECORD/.test(code)) return 'not_tls';
  return 'other';
}

export interface TlsStatus {
  readonly enabled: boolean;
  /** The groups the listener offers, most preferred first. */
  readonly groups?: readonly string[];
  readonly requirePostQuantum?: boolean;
  readonly clientAuth?: TlsConfig['clientAuth'];
  /** Handshakes completed since start, by negotiated group. */
  readonly handshakes?: Readonly<Record<string, number>>;
  /** Handshakes refused or failed since start, by reason. */
  readonly failures?: Readonly<Record<string, number>>;
  readonly lastGroup?: string;
  /** The gateway's own TLS connections (Fabric peers, CA): group of the latest handshake per endpoint. */
  readonly outbound: readonly OutboundHandshake[];
}

export interface OutboundHandshake {
  readonly endpoint: string;
  readonly servername?: string;
  readonly group: string;
  readonly at: string;
}

interface Log {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

const LOG_REFUSALS_PER_MINUTE = 10;

/** Counts handshakes and refusals of one listener and logs refusals (at most 10 lines a minute). */
export class ListenerObserver {
  private readonly handshakes = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private lastGroup: string | undefined;
  private logged = 0;
  private suppressed = 0;
  private windowStart = 0;
  private readonly handshakeCounter: Counter<'group' | 'protocol'>;
  private readonly failureCounter: Counter<'reason'>;

  constructor(
    private readonly tls: TlsConfig,
    registry: Registry,
    private readonly log: Log,
  ) {
    this.handshakeCounter = new PromCounter({
      name: 'torgo_tls_handshakes_total',
      help: 'TLS handshakes the HTTPS listener completed, by key-exchange group and ALPN protocol',
      labelNames: ['group', 'protocol'] as const,
      registers: [registry],
    });
    this.failureCounter = new PromCounter({
      name: 'torgo_tls_handshake_failures_total',
      help: 'TLS handshakes the HTTPS listener refused or lost, by reason (no_shared_group: no acceptable key exchange)',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
  }

  /** Wires the observer to a TLS server (`secureConnection`, `tlsClientError`). */
  attach(server: NodeJS.EventEmitter): void {
    server.on('secureConnection', (socket: TLSSocket) => this.onHandshake(socket));
    server.on('tlsClientError', (e: Error, socket: TLSSocket) => this.onFailure(e, socket));
  }

  onHandshake(socket: TLSSocket): void {
    const group = negotiatedGroup(socket);
    // No ALPN from the client: the listener falls back to HTTP/1.1 (allowHTTP1).
    const protocol = typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : 'http/1.1';
    this.lastGroup = group;
    this.handshakes.set(group, (this.handshakes.get(group) ?? 0) + 1);
    this.handshakeCounter.inc({ group, protocol });
  }

  onFailure(e: Error & { code?: string }, socket: TLSSocket | undefined): void {
    const reason = failureReason(e);
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
    this.failureCounter.inc({ reason });
    const now = Date.now();
    if (now - this.windowStart > 60_000) {
      if (this.suppressed > 0)
        this.log.warn(
          { suppressed: this.suppressed },
          'TLS handshake refusals not logged in the last minute',
        );
      this.windowStart = now;
      this.logged = 0;
      this.suppressed = 0;
    }
    if (reason === 'aborted' || reason === 'not_tls') {
      this.log.debug({ reason, code: e.code, remote: socket?.remoteAddress }, 'TLS handshake failed');
      return;
    }
    if (this.logged >= LOG_REFUSALS_PER_MINUTE) {
      this.suppressed++;
      return;
    }
    this.logged++;
    const message =
      reason === 'no_shared_group' && this.tls.requirePostQuantum
        ? `TLS handshake refused: the client offers no post-quantum key exchange (tls.requirePostQuantum accepts only ${effectiveGroups(this.tls)})`
        : reason === 'protocol_version' && this.tls.requirePostQuantum
          ? 'TLS handshake refused: the client does not speak TLS 1.3, which post-quantum key exchange needs (tls.requirePostQuantum)'
          : `TLS handshake refused (${reason})`;
    this.log.warn(
      { reason, code: e.code, remote: socket?.remoteAddress, remotePort: socket?.remotePort },
      message,
    );
  }

  status(outbound: readonly OutboundHandshake[]): TlsStatus {
    return {
      enabled: true,
      groups: groupNames(effectiveGroups(this.tls)),
      requirePostQuantum: this.tls.requirePostQuantum,
      clientAuth: this.tls.clientAuth,
      handshakes: Object.fromEntries(this.handshakes),
      failures: Object.fromEntries(this.failures),
      ...(this.lastGroup ? { lastGroup: this.lastGroup } : {}),
      outbound,
    };
  }
}
