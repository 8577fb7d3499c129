/**
 * Heals partitions without the application: a peer whose last connection
 * closed is dialled again, by its peer id (libp2p's peer store, then the
 * address book through the dial gate), with back-off (1 s doubling to 30 s)
 * for up to 15 minutes. When a cable is cut, the overlay loses its
 * neighbours across it, and its passive view is tried while the cable is
 * still down and emptied; without this, two halves that both still have
 * neighbours never look for each other again.
 *
 * It never fights the overlay: it dials only while the node has fewer than
 * `target` peers (below that, an extra connection costs little; above it the
 * overlay chose to drop the peer). A peer that reconnects, in either
 * direction, is no longer chased.
 *
 * Only a peer whose connection lasted (MIN_CONNECTED_MS) is chased: one
 * that a gater hung up on during the upgrade (deny and allow lists, bans)
 * would otherwise be redialled for 15 minutes.
 *
 * Bounded: 64 lost peers (the oldest is forgotten), one dial per peer at a time.
 */
import type { PeerId } from '@libp2p/interface';
import type { Libp2p } from 'libp2p';
import type { Log } from '../../core/log.ts';

const MAX_LOST = 64;
const GIVE_UP_MS = 15 * 60_000;
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15_000, 30_000];
const DEFAULT_TARGET = 8;
const MIN_CONNECTED_MS = 2000;
const MAX_CONNECTED = 1024;

interface Lost {
  peer: PeerId;
  since: number;
  attempt: number;
  timer?: NodeJS.Timeout;
  dialing: boolean;
}

export class Redialer {
  readonly #host: Libp2p;
  readonly #log: Log;
  readonly #target: number;
  readonly #lost = new Map<string, Lost>();
  /** When each connected peer connected (bounded: the oldest entry goes). */
  readonly #connectedAt = new Map<string, number>();
  #stopped = false;

  constructor(options: { host: Libp2p; log: Log; target?: number }) {
    this.#host = options.host;
    this.#log = options.log;
    this.#target = options.target ?? DEFAULT_TARGET;
  }

  /** Peers waiting for a redial now. */
  get lost(): number {
    return this.#lost.size;
  }

  start(): void {
    this.#host.addEventListener('peer:disconnect', ({ detail: peer }) => {
      const since = this.#connectedAt.get(peer.toString());
      this.#connectedAt.delete(peer.toString());
      if (since !== undefined && performance.now() - since >= MIN_CONNECTED_MS) this.#onLost(peer);
    });
    this.#host.addEventListener('peer:connect', ({ detail: peer }) => {
      this.#forget(peer.toString());
      this.#connectedAt.set(peer.toString(), performance.now());
      if (this.#connectedAt.size > MAX_CONNECTED) this.#connectedAt.delete(this.#connectedAt.keys().next().value!);
    });
  }

  stop(): void {
    this.#stopped = true;
    for (const key of [...this.#lost.keys()]) this.#forget(key);
  }

  #onLost(peer: PeerId): void {
    const key = peer.toString();
    if (this.#stopped || this.#lost.has(key)) return;
    if (this.#lost.size >= MAX_LOST) this.#forget(this.#lost.keys().next().value!);
    this.#lost.set(key, { peer, since: performance.now(), attempt: 0, dialing: false });
    this.#schedule(key);
  }

  #forget(key: string): void {
    const lost = this.#lost.get(key);
    if (!lost) return;
    clearTimeout(lost.timer);
    this.#lost.delete(key);
  }

  #schedule(key: string): void {
    const lost = this.#lost.get(key);
    if (!lost || this.#stopped) return;
    if (performance.now() - lost.since > GIVE_UP_MS) return this.#forget(key);
    lost.timer = setTimeout(() => this.#redial(key), BACKOFF_MS[Math.min(lost.attempt++, BACKOFF_MS.length - 1)]);
    lost.timer.unref();
  }

  #redial(key: string): void {
    const lost = this.#lost.get(key);
    if (!lost || this.#stopped || lost.dialing) return;
    if (this.#host.getConnections(lost.peer).length > 0) return this.#forget(key);
    if (this.#host.getPeers().length >= this.#target) return this.#schedule(key);
    lost.dialing = true;
    this.#host.dial(lost.peer).then(
      () => {
        this.#log(`redialled ${key.slice(-8)} after ${Math.round(performance.now() - lost.since)} ms`);
        this.#forget(key);
      },
      () => {
        lost.dialing = false;
        this.#schedule(key);
      },
    );
  }
}
