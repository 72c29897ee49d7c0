/**
 * Buffers for JSON query pages, lent to one response each and reused once it has closed.
 *
 * A page of 50 receipts is ~270 KB written from the contract's bytes (gateway/ledger/page.ts). Each
 * one in a buffer of its own is an ArrayBuffer outside V8's heap that only a collection frees, and
 * with the contract's page and the records LevelDB handed back (~555 KB more per page) such external
 * bytes start V8's mark-compacts long before the heap needs one (docs/performance.md §11, fourth and
 * fifth passes). A buffer is lent until its response's `close` — emitted after `finish` (the last
 * byte handed to the operating system) or after the connection is gone, so the socket holds no
 * pending write of it — then kept for the next page. A response that never closes keeps its buffer,
 * which is then only garbage: never lent twice.
 */
import type { EventEmitter } from 'node:events';

export class PageBuffers {
  private readonly free: Buffer[] = [];

  /**
   * @param keep most buffers kept between pages (pages answered at once beyond it allocate their own)
   * @param largest buffers above this many bytes are not kept (a page of unusually large receipts)
   * @param smallest every buffer has at least this many bytes, so most pages fit any kept one
   */
  constructor(
    private readonly keep = 4,
    private readonly largest = 4 * 2 ** 20,
    private readonly smallest = 2 ** 20,
  ) {}

  /** A buffer of at least `size` bytes, this response's until it closes. */
  lend(size: number, response: EventEmitter): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    const buffer =
      i >= 0 ? this.free.splice(i, 1)[0]! : Buffer.allocUnsafeSlow(Math.max(size, this.smallest));
    response.once('close', () => this.giveBack(buffer));
    return buffer;
  }

  /** Buffers kept for reuse now (for tests). */
  get kept(): number {
    return this.free.length;
  }

  private giveBack(buffer: Buffer): void {
    if (this.free.length < this.keep && buffer.length <= this.largest) this.free.push(buffer);
  }
}
