/**
 * What each peer is known to hold in one topic: per peer, the highest
 * seqNum of each log it holds (learned from sync, from verified gossip of a
 * neighbour, and from the `previous` of an author's operations). Bounded per
 * peer and in peers, with expiry: it only answers `seenBy`, so forgetting
 * costs nothing but a less complete answer.
 */
import { toHex } from '../core/index.ts';
import type { LogHeight } from '../store/index.ts';

/** Peers tracked per topic (the least recently heard of goes first). */
export const MAX_HEIGHT_PEERS = 256;
/** Logs tracked per peer (the least recently raised goes first). */
export const MAX_HEIGHTS_PER_PEER = 4096;
/** A peer not heard of for this long is forgotten: its heights are stale anyway. */
export const HEIGHTS_TTL_MS = 10 * 60_000;

interface PeerRecord {
  at: number;
  /** log key -> highest seqNum; in order of last update. */
  heights: Map<string, number>;
}

export class PeerHeights {
  /** In order of last update. */
  readonly #peers = new Map<string, PeerRecord>();

  /** Records that `peer` holds at least these heights. */
  note(peer: string, heights: LogHeight[], now: number): void {
    this.#expire(now);
    let record = this.#peers.get(peer);
    if (record) this.#peers.delete(peer);
    else record = { at: now, heights: new Map() };
    record.at = now;
    this.#peers.set(peer, record);
    if (this.#peers.size > MAX_HEIGHT_PEERS) this.#peers.delete(this.#peers.keys().next().value!);
    const known = record.heights;
    for (const h of heights) {
      const key = `${h.author.toHex()}:${toHex(h.logId)}`;
      const before = known.get(key) ?? -1;
      if (h.seqNum <= before) continue;
      known.delete(key);
      known.set(key, h.seqNum);
      if (known.size > MAX_HEIGHTS_PER_PEER) known.delete(known.keys().next().value!);
    }
  }

  /** Peers known to hold seqNum `seqNum` of the log `key` ("author:logId"). */
  holders(key: string, seqNum: number): string[] {
    return [...this.#peers].filter(([, r]) => (r.heights.get(key) ?? -1) >= seqNum).map(([peer]) => peer);
  }

  sizes(): { peers: number; entries: number } {
    let entries = 0;
    for (const r of this.#peers.values()) entries += r.heights.size;
    return { peers: this.#peers.size, entries };
  }

  #expire(now: number): void {
    for (const [peer, record] of this.#peers) {
      if (now - record.at < HEIGHTS_TTL_MS) break;
      this.#peers.delete(peer);
    }
  }
}
