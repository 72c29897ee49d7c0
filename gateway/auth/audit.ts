/**
 * The token audit log: every token issue, rotation, revocation and refused grant, as one JSON line
 * each in `<dataDir>/gateway/audit.jsonl`, hash-chained (docs/operations.md#token-audit-log).
 *
 * Line n is the canonical JSON (RFC 8785, core/json.ts) of an event whose `prev` is
 * `sha256:<hex>` of line n-1's bytes (line 1: 64 zeros), so editing, reordering or removing any
 * event changes every later hash and the head an auditor pinned. Each event is written and fsync'd
 * before the change it records takes effect (write-ahead), so a change is never without its event.
 *
 * Why a local log and not the ledger: tokens are the gateway's own (one data directory, one
 * organisation), not channel state; a revocation must work while the ledger is down (a leaked
 * token is revoked *now*); and on Fabric every channel member would read an organisation's
 * service inventory. Why not signed: the only key the gateway could sign with lives on the same
 * host, readable by whoever can rewrite this file, so a signature would add no protection that
 * the chain plus an auditor's pinned head do not give.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, truncate } from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson } from '../../core/json.js';

export const AUDIT_GENESIS = `sha256:${'0'.repeat(64)}`;

export type AuditEventKind =
  | 'token.issued'
  | 'token.rotated'
  | 'token.revoked'
  | 'token.refused'
  | 'token.imported';

/** Who did it: an authenticated token, or the operator's own procedure at start (docs/operations.md). */
export type AuditActor =
  | { readonly kind: 'token'; readonly tokenId: string; readonly identity: string }
  | {
      readonly kind: 'operator';
      readonly procedure: 'first-start' | 'bootstrap-admin' | 'log-operator-token' | 'import';
    };

export interface AuditedToken {
  readonly id: string;
  readonly name: string;
  readonly identity: string;
  readonly roles: readonly string[];
}

export interface AuditEvent {
  readonly seq: number;
  /** RFC 3339 UTC. */
  readonly at: string;
  readonly event: AuditEventKind;
  readonly actor: AuditActor;
  /** The token issued, rotated in, revoked or imported. */
  readonly token?: AuditedToken;
  /** token.rotated: the token this one replaces (revoked by the same event). */
  readonly replaces?: string;
  /** token.refused: what was asked and why it was refused (never a secret). */
  readonly refused?: {
    readonly code: string;
    readonly message: string;
    readonly request: Readonly<Record<string, unknown>>;
  };
  readonly prev: string;
}

export type AuditEventInput = Omit<AuditEvent, 'seq' | 'at' | 'prev'>;

export class AuditChainError extends Error {
  override readonly name = 'AuditChainError';
  readonly code = 'E_AUDIT_CHAIN_BROKEN';
  constructor(
    message: string,
    readonly seq: number,
  ) {
    super(message);
  }
}

export function hashOfLine(line: string): string {
  return `sha256:${createHash('sha256').update(line, 'utf8').digest('hex')}`;
}

/**
 * Checks that `events` are a contiguous stretch of the chain: consecutive `seq`, each `prev` the
 * hash of the one before (the first's `prev` is `previous`, the genesis when starting at seq 1).
 * Returns the hash of the last event (the head). Used by the gateway at open and by `torgo audit tokens`.
 */
export function verifyAuditChain(
  events: readonly AuditEvent[],
  previous: { seq: number; hash: string } = { seq: 0, hash: AUDIT_GENESIS },
): string {
  let { seq, hash } = previous;
  for (const e of events) {
    if (e.seq !== seq + 1) throw new AuditChainError(`event ${e.seq} follows event ${seq}`, e.seq);
    if (e.prev !== hash)
      throw new AuditChainError(
        `event ${e.seq}: prev is ${e.prev}, but event ${seq} hashes to ${hash}`,
        e.seq,
      );
    seq = e.seq;
    hash = hashOfLine(canonicalJson(e));
  }
  return hash;
}

export class TokenAuditLog {
  private events: AuditEvent[] = [];
  private head = AUDIT_GENESIS;
  private writing: Promise<unknown> = Promise.resolve();
  /** Bytes of the file holding whole events: a failed append is cut back to it. */
  private bytes = 0;

  private constructor(readonly file: string) {}

  /**
   * Opens (or creates) the log and checks the whole chain. A torn last line (a crash mid-write: no
   * final newline) was never acknowledged and is cut off; any other damage refuses to open.
   */
  static async open(dataDir: string): Promise<{ log: TokenAuditLog; created: boolean; cutBytes: number }> {
    const file = path.join(dataDir, 'gateway', 'audit.jsonl');
    const log = new TokenAuditLog(file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      return { log, created: true, cutBytes: 0 };
    }
    const end = text.lastIndexOf('\n') + 1;
    const cutBytes = Buffer.byteLength(text.slice(end));
    log.bytes = Buffer.byteLength(text.slice(0, end));
    if (cutBytes > 0) await truncate(file, log.bytes);
    const lines = text.slice(0, end).split('\n').slice(0, -1);
    for (const [i, line] of lines.entries()) {
      let event: AuditEvent;
      try {
        event = JSON.parse(line) as AuditEvent;
      } catch {
        throw new AuditChainError(`${file} line ${i + 1} is not JSON`, i + 1);
      }
      if (canonicalJson(event) !== line)
        throw new AuditChainError(`${file} line ${i + 1} is not in canonical form`, i + 1);
      log.head = verifyAuditChain([event], { seq: i, hash: log.head });
      log.events.push(event);
    }
    return { log, created: false, cutBytes };
  }

  get size(): number {
    return this.events.length;
  }

  headOf(): { seq: number; hash: string } {
    return { seq: this.events.length, hash: this.head };
  }

  /** Events with seq > after, at most `limit`. */
  read(after: number, limit: number): readonly AuditEvent[] {
    return this.events.slice(after, after + limit);
  }

  all(): readonly AuditEvent[] {
    return this.events;
  }

  /** Appends one event; resolves once it is on disk (fsync'd). Appends are serialised. */
  append(input: AuditEventInput): Promise<AuditEvent> {
    const write = this.writing.then(async () => {
      const event: AuditEvent = {
        ...input,
        seq: this.events.length + 1,
        at: new Date().toISOString(),
        prev: this.head,
      };
      const line = canonicalJson(event);
      const dir = path.dirname(this.file);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const first = this.events.length === 0;
      const handle = await open(this.file, 'a', 0o600);
      try {
        await handle.writeFile(`${line}\n`);
        await handle.sync();
      } catch (e) {
        // Leave no torn line for the next event to follow.
        await handle.truncate(this.bytes).catch(() => undefined);
        throw e;
      } finally {
        await handle.close();
      }
      if (first) {
        // A new file's directory entry must be durable too.
        const d = await open(dir, 'r');
        try {
          await d.sync();
        } finally {
          await d.close();
        }
      }
      this.events.push(event);
      this.head = hashOfLine(line);
      this.bytes += Buffer.byteLength(line) + 1;
      return event;
    });
    this.writing = write.catch(() => undefined);
    return write;
  }
}
