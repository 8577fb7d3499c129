/**
 * Who is online in a chat: peers whose presence heartbeat (on the topic's
 * ephemeral stream) was heard within PRESENCE_EXPIRY_MS. Time is passed in,
 * so tests drive it; the chat session sweeps every PRESENCE_SWEEP_MS.
 */

/** How often a chat announces itself on the ephemeral stream. */
export const PRESENCE_HEARTBEAT_MS = 1500;
/** A peer unheard for this long is offline (three heartbeats may be lost). */
export const PRESENCE_EXPIRY_MS = 4500;
/** How often expiry is checked: a peer goes offline within EXPIRY + SWEEP (5 s) of its last heartbeat. */
export const PRESENCE_SWEEP_MS = 500;
/** At most this many peers are tracked; the longest unheard is dropped first. */
export const MAX_PRESENT = 1000;

export interface Present {
  id: string;
  name: string;
}

export class PresenceTable {
  readonly #peers = new Map<string, { name: string; lastHeard: number }>();
  #everSeen = false;

  /** Notes a heartbeat; true when the peer was not online before (it just came). */
  heard(id: string, name: string, now: number): boolean {
    const known = this.#peers.get(id);
    this.#peers.delete(id); // re-insert: the map stays ordered by last heartbeat
    this.#peers.set(id, { name, lastHeard: now });
    this.#everSeen = true;
    if (this.#peers.size > MAX_PRESENT) this.#peers.delete(this.#peers.keys().next().value!);
    return known === undefined || known.name !== name;
  }

  /** Removes and returns the peers unheard for PRESENCE_EXPIRY_MS or more. */
  expire(now: number): Present[] {
    const gone: Present[] = [];
    for (const [id, p] of this.#peers) {
      if (now - p.lastHeard < PRESENCE_EXPIRY_MS) break; // ordered by last heartbeat
      this.#peers.delete(id);
      gone.push({ id, name: p.name });
    }
    return gone;
  }

  online(): Present[] {
    return [...this.#peers].map(([id, p]) => ({ id, name: p.name }));
  }

  /** Whether any peer was ever heard: "none yet" before, "no one online" after. */
  get everSeen(): boolean {
    return this.#everSeen;
  }
}
