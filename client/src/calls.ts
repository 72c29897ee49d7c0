/** The two shapes of the API's small JSON calls, shared by the client's route groups. */
import type { CallOptions, RequestSpec } from './client.js';

/** What a route group needs of the client. */
export interface JsonCaller {
  json<T>(spec: RequestSpec, options?: CallOptions): Promise<{ status: number; value: T }>;
}

/** A read: GET, retried after any failure that is not a 4xx. */
export async function read<T>(
  client: JsonCaller,
  path: string,
  options: CallOptions,
  query?: RequestSpec['query'],
): Promise<T> {
  return (
    await client.json<T>({ method: 'GET', path, idempotent: true, ...(query ? { query } : {}) }, options)
  ).value;
}

/** A write that must not happen twice: POST, retried only when the gateway cannot have acted. */
export async function write<T>(
  client: JsonCaller,
  path: string,
  body: unknown,
  options: CallOptions,
): Promise<T> {
  return (
    await client.json<T>(
      { method: 'POST', path, idempotent: false, ...(body === undefined ? {} : { json: body }) },
      options,
    )
  ).value;
}

/** A path segment from a caller's value. */
export const seg = encodeURIComponent;
