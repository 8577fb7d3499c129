/**
 * The carousel of broadcast-only sync (broadcast-sync.ts): on a link where nobody
 * can answer, the sender cannot learn what a listener lacks, so every tick it
 * sends a bounded page of what it holds. New operations go first (in log
 * order, so a listener can apply them without waiting; for a log first seen,
 * its newest page), then a cursor cycles
 * through everything held, so every operation goes out again periodically
 * and a listener converges however much the medium loses.
 *
 * Plain state, no IO: `plan` says which log ranges to read this tick,
 * `answered` moves the cursor past what a read really returned (a pruned log
 * has holes, and readLog skips them).
 */
import type { PublicKey } from '../core/index.ts';
import type { LogHeight } from '../store/index.ts';

export interface CarouselRead {
  key: string;
  author: PublicKey;
  logId: Uint8Array;
  afterSeq: number;
  limit: number;
  /** The cycle's read (its answer goes to `answered`), not the new-first pass. */
  cycle: boolean;
}

export class BroadcastCarousel {
  /** Per log, the highest seqNum the new-first pass has covered. */
  readonly #top = new Map<string, number>();
  /** Where the cycle through everything held stands. */
  #cursor: { key: string; afterSeq: number } | undefined;

  /**
   * At most `budget` operations this tick: first what is new since the last
   * pass, then one range of the cycle. Reads at most one range per log plus one.
   */
  plan(local: Map<string, LogHeight>, budget: number): CarouselRead[] {
    const reads: CarouselRead[] = [];
    const keys = [...local.keys()].sort();
    for (const key of this.#top.keys()) if (!local.has(key)) this.#top.delete(key);
    let left = budget;
    for (const key of keys) {
      if (left <= 0) return reads;
      const mine = local.get(key)!;
      // A log first seen (at start, or new to this peer): its newest page counts as new.
      const top = this.#top.get(key) ?? Math.max(-1, mine.seqNum - budget);
      if (mine.seqNum <= top) continue;
      const limit = Math.min(left, mine.seqNum - top);
      reads.push({ key, author: mine.author, logId: mine.logId, afterSeq: top, limit, cycle: false });
      this.#top.set(key, top + limit);
      left -= limit;
    }
    if (left <= 0 || keys.length === 0) return reads;
    // One range of the cycle: the rest of the current log, or the next log's start.
    let cursor = this.#cursor;
    if (!cursor || !local.has(cursor.key)) cursor = { key: keys[0], afterSeq: -1 };
    if (cursor.afterSeq >= local.get(cursor.key)!.seqNum) {
      const next = keys.findIndex((k) => k > cursor!.key);
      cursor = { key: keys[next === -1 ? 0 : next], afterSeq: -1 };
    }
    const mine = local.get(cursor.key)!;
    const limit = Math.min(left, mine.seqNum - cursor.afterSeq);
    reads.push({ key: cursor.key, author: mine.author, logId: mine.logId, afterSeq: cursor.afterSeq, limit, cycle: true });
    // Advance now, so a read nobody answers cannot stall the cycle.
    this.#cursor = { key: cursor.key, afterSeq: cursor.afterSeq + limit };
    return reads;
  }

  /** A read of `key` returned operations up to `lastSeq`: never cycle back over a hole. */
  answered(key: string, lastSeq: number): void {
    if (this.#cursor?.key === key && lastSeq > this.#cursor.afterSeq) this.#cursor = { key, afterSeq: lastSeq };
  }
}
