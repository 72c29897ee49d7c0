/** How the CLI ends: exit 0 success/valid, 1 invalid (a check failed), 2 usage or unreadable input. */
import { isCoreError } from '../core/index.js';

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
