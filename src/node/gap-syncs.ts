/**
 * Gap-triggered syncs, coalesced per peer and topic: an operation that came
 * by gossip ahead of its backlink waits a grace period (gossip may be
 * carrying the backlink), then, if still waiting, a sync with its sender
 * asks for the gap. Bounded: past the cap a gap waits for anti-entropy.
 */
import { realRuntime, type Runtime, type TimerHandle } from '../core/index.ts';

/** How long an operation that came ahead of its backlink waits for gossip before a sync asks for the gap. */
export const GAP_GRACE_MS = 750;
/** Gap-sync timers pending (per peer and topic): more than the neighbours of many topics only under attack. */
export const MAX_GAP_SYNCS = 256;

export class GapSyncs {
  readonly #timers = new Map<string, TimerHandle>();
  readonly #runtime: Runtime;

  constructor(runtime: Runtime = realRuntime()) {
    this.#runtime = runtime;
  }

  get size(): number {
    return this.#timers.size;
  }

  /** Runs `due` once after the grace period, unless one is pending for this key already. */
  schedule(peer: string, topicHex: string, due: () => void): void {
    const key = `${peer}:${topicHex}`;
    if (this.#timers.has(key) || this.#timers.size >= MAX_GAP_SYNCS) return;
    const timer = this.#runtime.setTimer(GAP_GRACE_MS, () => {
      this.#timers.delete(key);
      due();
    });
    this.#timers.set(key, timer);
  }

  clear(): void {
    for (const timer of this.#timers.values()) this.#runtime.clearTimer(timer);
    this.#timers.clear();
  }
}
