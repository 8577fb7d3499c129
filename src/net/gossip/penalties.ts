/**
 * Per-peer misbehaviour scores for the gossip service. Every invalid
 * payload, malformed frame or message from a peer that is not a neighbour
 * adds points; the score halves every `halfLifeMs`, so an honest peer's
 * occasional stale message (a race with a view change) never adds up. Over
 * the threshold the peer is banned: hung up on, its gossip streams and joins
 * refused, and (through the host's connection gater) not reconnected, for a
 * period that doubles with every repeat offence, up to a bound. Time is
 * passed in (milliseconds, monotonic); no timers.
 */

/** What each kind of misbehaviour costs (a ban at `threshold`). */
export const PENALTY_POINTS = {
  /** A payload that failed decoding or its signature check: nobody honest forwards one. */
  invalid: 20,
  /** A frame or overlay message that does not decode or has the wrong shape. */
  malformed: 10,
  /** A stream that broke the frame limit (an oversized frame announced). */
  oversized: 50,
  /** A broadcast message from a non-neighbour: honest peers send these only in a race. */
  stranger: 1,
} as const;

export type Offence = keyof typeof PENALTY_POINTS;

export interface PenaltyConfig {
  /** Score at which a peer is banned: five invalid payloads in quick succession. */
  threshold: number;
  /** The score halves this often: slow trickles of noise never reach the threshold. */
  halfLifeMs: number;
  /** First ban; each repeat doubles it. */
  banMs: number;
  /** Longest ban. */
  maxBanMs: number;
  /** A peer's record (score, repeat count) is forgotten this long after its last offence or ban end. */
  forgetMs: number;
  /** Peers tracked at once (the oldest record goes first): a flood of fresh keys cannot grow it. */
  maxPeers: number;
}

export const DEFAULT_PENALTY_CONFIG: Readonly<PenaltyConfig> = Object.freeze({
  threshold: 100,
  halfLifeMs: 10_000,
  banMs: 60_000,
  maxBanMs: 60 * 60_000,
  forgetMs: 24 * 60 * 60_000,
  maxPeers: 4096,
});

interface Record_ {
  score: number;
  at: number;
  bans: number;
  bannedUntil: number;
}

export class Penalties<P = string> {
  readonly config: Readonly<PenaltyConfig>;
  /** Insertion order is last-touched order (a touched record is moved to the end). */
  readonly #peers = new Map<P, Record_>();
  /** Bans issued so far (for stats). */
  banCount = 0;

  constructor(config: Partial<PenaltyConfig> = {}) {
    this.config = { ...DEFAULT_PENALTY_CONFIG, ...config };
  }

  /** Adds an offence; returns true when it bans the peer (only on the transition). */
  penalise(peer: P, offence: Offence, now: number): boolean {
    const record = this.#touch(peer, now);
    if (now < record.bannedUntil) return false;
    record.score = this.#decayed(record, now) + PENALTY_POINTS[offence];
    record.at = now;
    if (record.score < this.config.threshold) return false;
    record.bans++;
    record.score = 0;
    record.bannedUntil = now + Math.min(this.config.maxBanMs, this.config.banMs * 2 ** Math.min(record.bans - 1, 20));
    this.banCount++;
    return true;
  }

  isBanned(peer: P, now: number): boolean {
    const record = this.#peers.get(peer);
    return record !== undefined && now < record.bannedUntil;
  }

  score(peer: P, now: number): number {
    const record = this.#peers.get(peer);
    return record ? this.#decayed(record, now) : 0;
  }

  /** Peers tracked, and how many are banned now. */
  sizes(now: number): { tracked: number; banned: number } {
    let banned = 0;
    for (const record of this.#peers.values()) if (now < record.bannedUntil) banned++;
    return { tracked: this.#peers.size, banned };
  }

  #decayed(record: Record_, now: number): number {
    return record.score * 2 ** (-(now - record.at) / this.config.halfLifeMs);
  }

  #touch(peer: P, now: number): Record_ {
    this.#expire(now);
    let record = this.#peers.get(peer);
    if (record) this.#peers.delete(peer);
    else record = { score: 0, at: now, bans: 0, bannedUntil: 0 };
    this.#peers.set(peer, record);
    while (this.#peers.size > this.config.maxPeers) {
      // The least recently touched record goes; a banned one only if every record is.
      const victim = [...this.#peers].find(([, r]) => now >= r.bannedUntil)?.[0] ?? this.#peers.keys().next().value!;
      this.#peers.delete(victim);
    }
    return record;
  }

  /** Forgets records untouched for `forgetMs` past their last offence and ban (oldest first). */
  #expire(now: number): void {
    for (const [peer, record] of this.#peers) {
      if (now - Math.max(record.at, record.bannedUntil) < this.config.forgetMs) break;
      this.#peers.delete(peer);
    }
  }
}
