/** How the CLI ends: exit 0 success/valid, 1 invalid (a check failed), 2 usage or unreadable input. */
import { TorgoApiError } from '@torgo/client';
import { isCoreError } from '../core/errors.js';

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT_USAGE,
    readonly code: string = 'E_USAGE',
    /** The command already told the user (e.g. `verify` printed its report); print nothing more. */
    readonly reported = false,
  ) {
    super(message);
  }
}

/** The exit status and one-line message for any error reaching the top level. */
export function describeError(e: unknown): { exitCode: number; code: string; message: string } {
  if (e instanceof TorgoApiError) return describeError(cliErrorOf(e));
  if (e instanceof CliError) return { exitCode: e.exitCode, code: e.code, message: e.message };
  if (isCoreError(e)) return { exitCode: EXIT_INVALID, code: e.code, message: e.message };
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT' || err?.code === 'EACCES' || err?.code === 'EISDIR') {
    return { exitCode: EXIT_USAGE, code: 'E_IO', message: err.message };
  }
  if (err?.code === 'EEXIST') return { exitCode: EXIT_USAGE, code: 'E_EXISTS', message: err.message };
  // A coded failure from a layer below (e.g. the gateway's E_AUDIT_CHAIN_BROKEN at start).
  if (typeof err?.code === 'string' && /^E_[A-Z_]+$/.test(err.code))
    return { exitCode: EXIT_USAGE, code: err.code, message: err.message };
  // The same, wrapped by the layer that met it (the gateway's LedgerError around the engine's E_LEDGER_FORMAT).
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string' && /^E_[A-Z_]+$/.test(cause.code))
    return { exitCode: EXIT_USAGE, code: cause.code, message: err.message };
  return { exitCode: EXIT_USAGE, code: 'E_INTERNAL', message: err?.message ?? String(e) };
}

/** What a call that got no answer means for the user, TLS failures above all. */
function unreachable(e: TorgoApiError): CliError {
  const cause = (e.cause as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const code = cause?.code ?? '';
  let hint = '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME/.test(code)) {
    hint =
      ": the gateway's certificate is not trusted (give its CA with --ca-file or TORGO_CA_FILE; `torgo tls dev-cert` wrote ca.pem)";
  } else if (/HANDSHAKE_FAILURE|ALERT/.test(code) || /alert handshake failure/.test(cause?.message ?? '')) {
    hint =
      ': the TLS handshake was refused (the gateway may require post-quantum key exchange X25519MLKEM768, which needs Node ≥ 24 with OpenSSL ≥ 3.5, or a client certificate: --cert and --key)';
  }
  return new CliError(`${e.message}${hint}`, EXIT_USAGE, 'E_GATEWAY_UNREACHABLE');
}

/**
 * The CLI's view of a client error: the gateway refused (exit 1, its code), or it could not be
 * asked (exit 2, E_GATEWAY_UNREACHABLE).
 */
export function cliErrorOf(e: TorgoApiError): CliError {
  if (e.status === 0 && e.code !== 'E_BAD_RESPONSE') return unreachable(e);
  const retry = e.retryAfterMs === undefined ? '' : `, retry after ${Math.ceil(e.retryAfterMs / 1000)} s`;
  return new CliError(`${e.message} (HTTP ${e.status}${retry})`, EXIT_INVALID, e.code);
}
