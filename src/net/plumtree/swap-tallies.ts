/**
 * When to swap a tree link for a lazy one that is closer to the origins.
 * One tree serves every sender, so one message says little: a lazy peer
 * replaces an eager link only once its path saved `hopsSaved` hops in
 * total over consecutive messages that came over that link (at least
 * `samples` of them), each saving at least one hop.
 */

/** Hops a lazy peer's path saved over an eager link's, over consecutive messages. */
interface Tally {
  sum: number;
  count: number;
}

export class SwapTallies<P> {
  /** Per eager peer, per lazy peer. Only current neighbours (see `drop`): at most the active view squared. */
  private readonly byEager = new Map<P, Map<P, Tally>>();

  constructor(
    private readonly hopsSaved: number,
    private readonly samples: number,
  ) {}

  /**
   * A message came over `eager`; through `lazy` it would have come `gain`
   * hops sooner. True when the swap is due (the tally is then cleared).
   */
  note(eager: P, lazy: P, gain: number): boolean {
    if (this.hopsSaved <= 0) return false;
    let byLazy = this.byEager.get(eager);
    if (!byLazy) {
      byLazy = new Map();
      this.byEager.set(eager, byLazy);
    }
    if (gain <= 0) {
      // Every sample must gain, not only the mean: a lazy peer that is
      // farther for some origins may hear of messages through us, and a swap
      // to it would cut us off together with it (swaps elsewhere make older
      // samples stale, so one losing sample starts the count again).
      byLazy.delete(lazy);
      return false;
    }
    let tally = byLazy.get(lazy);
    if (!tally) {
      tally = { sum: 0, count: 0 };
      byLazy.set(lazy, tally);
    }
    tally.sum += gain;
    tally.count++;
    if (tally.count < this.samples || tally.sum < this.hopsSaved) return false;
    byLazy.delete(lazy);
    return true;
  }

  /** Forgets the tallies that involve `peer` (its role changed, or it left). */
  drop(peer: P): void {
    this.byEager.delete(peer);
    for (const byLazy of this.byEager.values()) byLazy.delete(peer);
  }

  get size(): number {
    let n = 0;
    for (const byLazy of this.byEager.values()) n += byLazy.size;
    return n;
  }
}
