/**
 * The gateway's HTTP API v1, as the console uses it: same origin, bearer token from the
 * session, errors in the gateway's `{code, message, details?}` shape (docs/api.md).
 */
import { session } from './session.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  /** The route does not exist on this gateway (an older gateway, or a feature still to come). */
  get missingRoute(): boolean {
    return this.status === 404 && this.code === 'E_ROUTE_NOT_FOUND';
  }
}

/** The API's bodies, typed once from the gateway's own schemas (@torgo/api). */
import type { KeyRecord } from '@torgo/api';

export type { KeyHistory, KeyRecord, Me, Party, ReceiptPage, ReceiptResource } from '@torgo/api';

export type Params = Record<string, string | number | undefined>;

export function queryString(params: Params = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}

/** Signals the app that the token stopped working (revoked, or the gateway's store was reset). */
export const SIGNED_OUT = 'torgo:signed-out';

export async function request(
  path: string,
  params?: Params,
  options: { accept?: string; token?: string } = {},
): Promise<Response> {
  const token = options.token ?? session.token();
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
  if (token) headers['authorization'] = `Bearer ${token}`;
  const res = await fetch(`${path}${queryString(params)}`, {
    headers,
    credentials: 'omit',
    cache: 'no-store',
    referrerPolicy: 'no-referrer',
  });
  if (res.ok) return res;
  let code = `HTTP_${res.status}`;
  let message = res.statusText || 'request failed';
  try {
    const body = (await res.json()) as { code?: unknown; message?: unknown };
    if (typeof body.code === 'string') code = body.code;
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // not the gateway's JSON error shape
  }
  if (res.status === 401 && !options.token)
    window.dispatchEvent(new CustomEvent(SIGNED_OUT, { detail: message }));
  throw new ApiError(res.status, code, message);
}

export async function getJson<T>(path: string, params?: Params, token?: string): Promise<T> {
  const res = await request(path, params, token === undefined ? {} : { token });
  return (await res.json()) as T;
}

/** A key record, or why not; memoised for the page's life (records change rarely). */
const keys = new Map<string, Promise<KeyRecord>>();
export function getKey(keyId: string, fresh = false): Promise<KeyRecord> {
  let p = fresh ? undefined : keys.get(keyId);
  if (!p) {
    p = getJson<KeyRecord>(`/v1/keys/${encodeURIComponent(keyId)}`);
    p.catch(() => keys.delete(keyId));
    keys.set(keyId, p);
  }
  return p;
}
