/** Signer keys: register, read, history, rotate, revoke (docs/api.md "Keys"). */
import type { KeyHistory, KeyRecord, KeyRotation, KeyWrite, RegisterKeyBody } from '@torgo/api';
import { type JsonCaller, read, seg, write } from './calls.js';
import type { CallOptions } from './client.js';

export class KeysApi {
  constructor(private readonly client: JsonCaller) {}

  /** Registers a public key owned by the caller's identity. */
  register(body: RegisterKeyBody, options: CallOptions = {}): Promise<KeyWrite> {
    return write(this.client, '/v1/keys', body, options);
  }

  get(keyId: string, options: CallOptions = {}): Promise<KeyRecord> {
    return read(this.client, `/v1/keys/${seg(keyId)}`, options);
  }

  /** Every committed version of the key's record. */
  history(keyId: string, options: CallOptions = {}): Promise<KeyHistory> {
    return read(this.client, `/v1/keys/${seg(keyId)}/history`, options);
  }

  /** Retires an owned key in favour of `publicKey` (PEM). */
  rotate(keyId: string, publicKey: string, options: CallOptions = {}): Promise<KeyRotation> {
    return write(this.client, `/v1/keys/${seg(keyId)}/rotate`, { publicKey }, options);
  }

  /** Revokes a key (its owner, or an admin). */
  revoke(keyId: string, reason: string, options: CallOptions = {}): Promise<KeyWrite> {
    return write(this.client, `/v1/keys/${seg(keyId)}/revoke`, { reason }, options);
  }
}
