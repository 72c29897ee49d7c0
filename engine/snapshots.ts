/**
 * The LevelDB snapshot endorsements read committed state through, one per committed height: every
 * endorsement that starts while the height is the same sees the same state, so it shares one
 * snapshot instead of opening and closing its own.
 *
 * Readers are counted here, not with abstract-level's `ref`/`unref`: those count the operations in
 * flight, and once `close()` has been called abstract-level refuses every *new* operation on the
 * snapshot (LEVEL_SNAPSHOT_NOT_OPEN), even while references remain. An endorsement holding the
 * snapshot issues reads after the height moved on (a query page reads record after record), so a
 * snapshot is closed only once it is retired (the height moved on, or the ledger closes) and its
 * last reader released it.
 */
import type { Db, Snapshot } from './state.js';

/** A snapshot lent to a reader; give it back with `release`. */
export interface SharedSnapshot {
  readonly snapshot: Snapshot;
  readonly height: number;
}

interface Share extends SharedSnapshot {
  readers: number;
  retired: boolean;
}

export class SnapshotShare {
  private current: Share | undefined;
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly db: Db) {}

  /** A snapshot of committed state at `height`, lent until `release`. */
  acquire(height: number): SharedSnapshot {
    if (this.current?.height !== height) {
      this.retire();
      this.current = { snapshot: this.db.snapshot(), height, readers: 0, retired: false };
    }
    this.current.readers++;
    return this.current;
  }

  release(shared: SharedSnapshot): void {
    const share = shared as Share;
    share.readers--;
    if (share.retired && share.readers === 0) this.closeNow(share);
  }

  /**
   * Retires the current snapshot and resolves once every retired snapshot without readers is
   * closed; rejects with a close's error. Readers still holding one close it on release.
   */
  async close(): Promise<void> {
    this.retire();
    await Promise.all([...this.closing]);
  }

  private retire(): void {
    const share = this.current;
    if (!share) return;
    this.current = undefined;
    share.retired = true;
    if (share.readers === 0) this.closeNow(share);
  }

  private closeNow(share: Share): void {
    const closed = share.snapshot.close();
    this.closing.add(closed);
    closed.then(
      () => this.closing.delete(closed),
      () => {},
    );
  }
}
