/**
 * The configured peers (`fabric.peers`, own organisation's first) and the one connection in use, for
 * both Fabric drivers: moving to the next peer when the one in use is unreachable, back to the first
 * every `failbackMs` once it answers again, and the readiness probe that tries each in turn. What a
 * connection is (a gRPC client and its fabric-gateway Gateways, or fabric-network Gateways) and how
 * it is let go belong to the driver: `connect` and `release`.
 */
import { LedgerError } from '../driver.js';

export interface PeerChange {
  readonly from: string;
  readonly to: string;
  readonly why: string;
}

export interface PeerRotationOptions<C> {
  readonly endpoints: readonly string[];
  /** A new connection to peer `index`. */
  connect(index: number): C;
  /**
   * Stops using `conn` (`why` says so for people), leaving calls already under way on it `graceMs`
   * to finish.
   */
  release(conn: C, why: string, graceMs: number): void;
  /** Resolves once peer `index` accepts a connection, within `ms`. */
  probe(index: number, ms: number): Promise<void>;
  readonly probeMs: number;
  readonly failbackMs: number;
  /** Grace for calls under way on the (healthy) connection a failback leaves. */
  readonly failbackGraceMs: number;
  /** The connection cannot change peer (a fixed connection profile): changes only rebuild it. */
  readonly pinned?: boolean;
}

export class PeerRotation<C extends { readonly index: number }> {
  private conn: C;
  /** A probe is under way (checks after failures, failback): one at a time. */
  private probing = false;
  private closed = false;
  private lastChangeAt = Number.NEGATIVE_INFINITY;
  private readonly failbackTimer: NodeJS.Timeout;
  /** Every change of connection, oldest first: another peer (failover, failback) or the same one rebuilt. */
  readonly changes: PeerChange[] = [];

  constructor(private readonly o: PeerRotationOptions<C>) {
    this.conn = o.connect(0);
    this.failbackTimer = setInterval(() => void this.failback(), o.failbackMs);
    this.failbackTimer.unref();
  }

  get current(): C {
    return this.conn;
  }

  endpointOf(conn: C): string {
    return this.o.endpoints[conn.index]!;
  }

  /** Milliseconds since the connection last changed (Infinity before the first change). */
  get sinceChangeMs(): number {
    return Date.now() - this.lastChangeAt;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The peer after `conn`'s (its own when pinned). */
  next(conn: C): number {
    return this.o.pinned ? conn.index : (conn.index + 1) % this.o.endpoints.length;
  }

  /**
   * Replaces `from` by a new connection to peer `to` (the same peer: a rebuild), unless it is no
   * longer the one in use (another call already replaced it) or the rotation is closed.
   */
  replace(from: C, to: number, why: string, graceMs: number): void {
    if (this.closed || from !== this.conn) return;
    const index = this.o.pinned ? from.index : to;
    this.conn = this.o.connect(index);
    this.lastChangeAt = Date.now();
    const was = this.endpointOf(from);
    const now = this.endpointOf(this.conn);
    this.changes.push({ from: was, to: now, why });
    this.o.release(
      from,
      index === from.index
        ? `the Fabric connection through ${was} was reset: ${why}`
        : `the Fabric connection moved from ${was} to ${now}: ${why}`,
      graceMs,
    );
  }

  /**
   * After a failure through `conn` that an unreachable peer would explain: probes its peer (one probe
   * at a time) within `ms`; unreachable → the next peer (`graceMs` for calls on the old connection);
   * reachable → `onReachable`.
   */
  check(conn: C, why: string, ms: number, graceMs: number, onReachable?: () => void): void {
    if (this.closed || conn !== this.conn || this.probing) return;
    this.probing = true;
    this.o
      .probe(conn.index, ms)
      .then(
        () => onReachable?.(),
        (e: Error) => this.replace(conn, this.next(conn), `${why}; probe: ${e.message}`, graceMs),
      )
      .finally(() => {
        this.probing = false;
      });
  }

  /**
   * Readiness: resolves once the peer in use accepts a connection; else tries the next peers in turn,
   * moving to the first that does. E_UNAVAILABLE (PEER_UNAVAILABLE) naming every peer tried when none does.
   */
  async reachable(graceMs: number): Promise<void> {
    const tried: string[] = [];
    for (let i = 0; ; i++) {
      const conn = this.conn;
      try {
        await this.o.probe(conn.index, this.o.probeMs);
        return;
      } catch (e) {
        tried.push(`${this.endpointOf(conn)} (${(e as Error).message})`);
        if (i + 1 >= this.o.endpoints.length || this.closed || this.o.pinned) {
          throw new LedgerError('connect', `no peer is reachable: ${tried.join('; ')}`, {
            retryable: true,
            reason: 'PEER_UNAVAILABLE',
          });
        }
        this.replace(conn, this.next(conn), `not reachable: ${(e as Error).message}`, graceMs);
      }
    }
  }

  /** While away from the first (own-organisation) peer: move back once it answers again. */
  private async failback(): Promise<void> {
    if (this.closed || this.conn.index === 0 || this.probing) return;
    const from = this.conn;
    this.probing = true;
    try {
      await this.o.probe(0, this.o.probeMs);
      this.replace(from, 0, 'failback: the first peer is reachable again', this.o.failbackGraceMs);
    } catch {
      // still away
    } finally {
      this.probing = false;
    }
  }

  close(why: string): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.failbackTimer);
    this.o.release(this.conn, why, 0);
  }
}
