/** API tokens: who am I, list, create, rotate, revoke, and the token audit trail (docs/api.md "Tokens"). */
import type {
  AuditPage,
  AuditQuery,
  CreateTokenBody,
  Me,
  TokenCreated,
  TokenInfo,
  TokenList,
} from '@torgo/api';
import { type JsonCaller, read, seg, write } from './calls.js';
import type { CallOptions } from './client.js';

export class TokensApi {
  constructor(private readonly client: JsonCaller) {}

  me(options: CallOptions = {}): Promise<Me> {
    return read(this.client, '/v1/me', options);
  }

  /** Replaces the caller's own token; the old one stops working. */
  rotateMine(options: CallOptions = {}): Promise<TokenCreated> {
    return write(this.client, '/v1/me/rotate', undefined, options);
  }

  async list(options: CallOptions = {}): Promise<TokenInfo[]> {
    return (await read<TokenList>(this.client, '/v1/tokens', options)).tokens;
  }

  create(body: CreateTokenBody, options: CallOptions = {}): Promise<TokenCreated> {
    return write(this.client, '/v1/tokens', body, options);
  }

  rotate(id: string, options: CallOptions = {}): Promise<TokenCreated> {
    return write(this.client, `/v1/tokens/${seg(id)}/rotate`, undefined, options);
  }

  revoke(id: string, options: CallOptions = {}): Promise<TokenInfo> {
    return write(this.client, `/v1/tokens/${seg(id)}/revoke`, undefined, options);
  }

  /** One page of the token audit trail; pass `nextAfter` back as `after`. */
  audit(query: AuditQuery = {}, options: CallOptions = {}): Promise<AuditPage> {
    return read(this.client, '/v1/audit/tokens', options, query);
  }
}
