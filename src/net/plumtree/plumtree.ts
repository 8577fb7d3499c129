import { WalkawayError } from '../../core/errors.ts';
import type { Random } from '../membership/random.ts';
import type { PeerId } from '../membership/types.ts';
import {
  DEFAULT_PLUMTREE_CONFIG,
  GOSSIP_ENVELOPE_OVERHEAD,
  type PlumTreeConfig,
  type PlumTreeInput,
  type PlumTreeMessage,
  type PlumTreeOutput,
  type PlumTreeStats,
  type PlumTreeTimer,
  type PayloadValidator,
} from './types.ts';
import { SwapTallies } from './swap-tallies.ts';
import { checkPlumTreeMessage } from './validate.ts';

interface CacheEntry<P> {
  payload: Uint8Array;
  hop: number;
  /** When the origin published it, on our clock (now minus the age it came with). */
  bornAt: number;
  /** Who sent it to us (null for our own messages). */
  from: P | null;
  at: number;
  /** A peer we grafted for this id whose copy is still on its way (not a duplicate to prune). */
  grafted: P | null;
  /** Delivered as the answer to our graft (not over the tree). */
  viaGraft: boolean;
}

interface Missing<P> {
  peers: P[];
  hops: number[];
  /** Peers grafted for this id, in order, and the hop each announced. */
  grafted: P[];
  graftedHops: number[];
}

/** A message as a push sends it on: our hop is its distance from the origin (0 at the origin). */
interface Copy {
  id: string;
  payload: Uint8Array;
  hop: number;
  bornAt: number;
}

interface IhaveBatch {
  ids: string[];
  hops: number[];
}

/**
 * PlumTree (Leitão, Pereira, Rodrigues, "Epidemic Broadcast Trees", SRDS
 * 2007) as a sans-IO machine. Payloads travel eagerly along a spanning tree
 * of the membership's active view; the other links carry batched IHAVEs. A
 * node that hears of a message it lacks grafts the announcer after a
 * timeout; a duplicate prunes the link it came over; a lazy path shorter by
 * the threshold replaces the eager one.
 */
export class PlumTree<P extends PeerId = PeerId> {
  readonly self: P;
  readonly config: Readonly<PlumTreeConfig>;
  readonly stats: PlumTreeStats = { delivered: 0, duplicates: 0, grafts: 0, prunes: 0, optimisations: 0, dropped: 0, invalid: 0, strangers: 0, abandoned: 0, tooOld: 0 };
  private readonly rng: Random;
  private readonly validate: PayloadValidator;
  private readonly eager: P[] = [];
  private readonly lazy: P[] = [];
  /** Delivered ids and when (insertion order is time order). */
  private readonly received = new Map<string, number>();
  private readonly cache = new Map<string, CacheEntry<P>>();
  private readonly missing = new Map<string, Missing<P>>();
  private readonly ihaveQueue = new Map<P, IhaveBatch>();
  /** Hops that lazy paths saved over eager ones (neighbours only; cleared when either changes role). */
  private readonly gains: SwapTallies<P>;
  /** When each neighbour last gave us a message first (our parent in the tree for its senders). */
  private readonly lastFirstFrom = new Map<P, number>();
  /** Until then IHAVEs graft at once: a parent of ours went down, and the tree has no path to us. */
  private orphanUntil = -Infinity;
  private dispatchArmed = false;
  private lastDispatchAt = -Infinity;
  private nextSweep = 0;
  private cacheBytes = 0;

  constructor(self: P, rng: Random, config: Partial<PlumTreeConfig> = {}, validate: PayloadValidator = () => true) {
    this.self = self;
    this.rng = rng;
    this.validate = validate;
    this.config = { ...DEFAULT_PLUMTREE_CONFIG, ...config };
    this.gains = new SwapTallies<P>(this.config.optimisationHopsSaved, this.config.optimisationSamples);
  }

  eagerPeers(): readonly P[] {
    return this.eager;
  }

  lazyPeers(): readonly P[] {
    return this.lazy;
  }

  isEager(peer: P): boolean {
    return this.eager.includes(peer);
  }

  hasDelivered(id: string): boolean {
    return this.received.has(id);
  }

  /**
   * Drops cached payloads that `match` picks (the app deleted or pruned what
   * they carry): no graft is answered with them and no IHAVE names them. Their
   * ids stay received, so a copy that comes back is not delivered again.
   */
  forget(match: (payload: Uint8Array) => boolean): number {
    const dropped = new Set<string>();
    for (const [id, entry] of this.cache) {
      if (!match(entry.payload)) continue;
      this.cacheDelete(id, entry);
      dropped.add(id);
    }
    // IHAVEs not sent yet would invite grafts that no payload answers.
    for (const batch of this.ihaveQueue.values()) {
      for (let i = batch.ids.length - 1; i >= 0; i--) {
        if (!dropped.has(batch.ids[i])) continue;
        batch.ids.splice(i, 1);
        batch.hops.splice(i, 1);
      }
    }
    return dropped.size;
  }

  /** Cache sizes, for memory checks. */
  sizes(): { received: number; cache: number; missing: number } {
    return { received: this.received.size, cache: this.cache.size, missing: this.missing.size };
  }

  /**
   * `sizes()` with the cached payload bytes, the queued IHAVE ids (each
   * capped: see the config) and the swap tallies (one per eager and lazy
   * neighbour pair at most: membership caps the neighbours).
   */
  memory(): { received: number; cache: number; cacheBytes: number; missing: number; ihaveQueued: number; gainTallies: number } {
    let ihaveQueued = 0;
    for (const batch of this.ihaveQueue.values()) ihaveQueued += batch.ids.length;
    return { ...this.sizes(), cacheBytes: this.cacheBytes, ihaveQueued, gainTallies: this.gains.size };
  }

  /**
   * Throws `WalkawayError('TOO_LARGE')` for a publish over the size limit
   * and `INVALID_ARGUMENT` for a bad payload or a reused id; never throws
   * on anything a peer sent.
   */
  handle(input: PlumTreeInput<P>, now: number): PlumTreeOutput<P>[] {
    const out: PlumTreeOutput<P>[] = [];
    if (now >= this.nextSweep) this.sweep(now);
    switch (input.type) {
      case 'recv': {
        const reason = checkPlumTreeMessage(input.message, this.config.maxMessageSize, this.config.maxIhaveIds);
        if (reason !== null) {
          this.stats.dropped++;
          out.push({ type: 'emit', event: { type: 'dropped', from: input.from, reason } });
        } else {
          this.onMessage(input.from, input.message, now, out);
        }
        break;
      }
      case 'timer':
        this.onTimer(input.timer, now, out);
        break;
      case 'command':
        this.publish(input.command.payload, input.command.id, now, out);
        break;
      case 'neighbor-up':
        this.onNeighborUp(input.peer, now, out);
        break;
      case 'neighbor-down':
        this.onNeighborDown(input.peer, now, out);
        break;
    }
    return out;
  }

  private publish(payload: Uint8Array, id: string | undefined, now: number, out: PlumTreeOutput<P>[]): void {
    if (!(payload instanceof Uint8Array)) {
      throw new WalkawayError('INVALID_ARGUMENT', 'publish needs a Uint8Array payload', { got: typeof payload });
    }
    if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 128)) {
      throw new WalkawayError('INVALID_ARGUMENT', 'a message id must be a string of 1 to 128 characters', { id });
    }
    const msgId = id ?? this.newId();
    const size = payload.length + msgId.length + GOSSIP_ENVELOPE_OVERHEAD;
    if (size > this.config.maxMessageSize) {
      throw new WalkawayError(
        'TOO_LARGE',
        `gossip message of ${size} bytes (payload ${payload.length} + id and envelope) is over the limit of ${this.config.maxMessageSize}; send it by sync`,
        { size, limit: this.config.maxMessageSize, payloadSize: payload.length },
      );
    }
    if (this.received.has(msgId)) {
      throw new WalkawayError('INVALID_ARGUMENT', `message id ${msgId} was already used`, { id: msgId });
    }
    out.push({ type: 'emit', event: { type: 'published', id: msgId, payload } });
    this.remember(msgId, now);
    this.cacheSet(msgId, { payload, hop: 0, bornAt: now, from: null, at: now, grafted: null, viaGraft: false });
    this.push({ id: msgId, payload, hop: 0, bornAt: now }, null, now, out);
  }

  private newId(): string {
    // 96 random bits: distinct for every broadcast, even of equal payloads.
    const a = this.rng.nextU32(),
      b = this.rng.nextU32(),
      c = this.rng.nextU32();
    return hex8(a) + hex8(b) + hex8(c);
  }

  private onMessage(from: P, msg: PlumTreeMessage, now: number, out: PlumTreeOutput<P>[]): void {
    // Only the topic's overlay neighbours take part in its tree: a stranger's
    // gossip, graft or announcement is ignored (a prune only ever demotes).
    if (msg.type !== 'prune' && !this.isNeighbor(from)) {
      this.stats.strangers++;
      return;
    }
    switch (msg.type) {
      case 'gossip':
        return this.onGossip(from, msg.id, msg.payload, msg.hop, now - (msg.age ?? 0), now, out);
      case 'ihave':
        for (let i = 0; i < msg.ids.length; i++) this.onIhave(from, msg.ids[i], msg.hops[i], now, out);
        return;
      case 'graft': {
        this.makeEager(from);
        if (msg.id === null) return;
        const entry = this.cache.get(msg.id);
        if (entry) out.push({ type: 'send', to: from, message: gossipOf(msg.id, entry, now) });
        return;
      }
      case 'prune':
        this.makeLazy(from);
        return;
    }
  }

  private onGossip(from: P, id: string, payload: Uint8Array, hop: number, bornAt: number, now: number, out: PlumTreeOutput<P>[]): void {
    if (this.received.has(id)) {
      const entry = this.cache.get(id);
      if (entry && entry.grafted === from) {
        // The answer to our own graft (the eager copy came first and settled which link stays).
        entry.grafted = null;
        return;
      }
      this.stats.duplicates++;
      // The paper's rule, and only it: the copy we delivered first was also
      // forwarded to this sender, which prunes us in turn; pruning any other
      // link here would cut us off on both sides.
      this.makeLazy(from);
      // Prune even when the link is already lazy here: a prune and a first
      // delivery can cross, leaving the sender eager towards us.
      this.stats.prunes++;
      out.push({ type: 'send', to: from, message: { type: 'prune' } });
      return;
    }
    if (now - bornAt > this.config.maxMessageAgeMs) {
      // Older than any id is remembered for certain: taking it could deliver
      // it twice here and carry it once more through the whole network. As
      // with an invalid payload, a missing entry keeps its announcers: a
      // peer's stale copy must not cancel the graft to an honest one.
      this.stats.tooOld++;
      return;
    }
    if (!this.validate(payload)) {
      // Nothing of it is kept: the id stays unknown, the missing entry (if an
      // IHAVE came first) keeps its other announcers for the graft timer.
      this.stats.invalid++;
      out.push({ type: 'emit', event: { type: 'invalid', from, id } });
      return;
    }
    this.stats.delivered++;
    this.remember(id, now);
    this.lastFirstFrom.set(from, now);
    const missing = this.missing.get(id);
    this.missing.delete(id);
    const grafted = missing && missing.grafted.length > 0 && !missing.grafted.includes(from) ? missing.grafted[0] : null;
    this.cacheSet(id, { payload, hop, bornAt, from, at: now, grafted, viaGraft: missing?.grafted.includes(from) === true });
    this.makeEager(from);
    out.push({ type: 'emit', event: { type: 'deliver', id, payload, hop, from } });
    if (grafted !== null && this.eager.includes(grafted) && this.eager.includes(from)) {
      // An IHAVE beat this copy by more than the graft timeout: the lazy
      // path is faster, so it becomes the tree link and this one is pruned
      // (otherwise the same useless graft would repeat for every message),
      // unless its path is longer by more than the allowed hops: then the
      // graft is undone and the tree keeps its shape.
      const graftedHop = (missing as Missing<P>).graftedHops[0] + 1;
      const slow = graftedHop - hop <= this.config.fasterPathMaxExtraHops ? from : grafted;
      this.demote(slow, out);
    } else if (missing && missing.grafted.length === 0) {
      // The IHAVE came first; if its path is shorter, maybe switch to it.
      // (Copies that a graft brought say nothing about the tree's paths.)
      for (let i = 0; i < missing.peers.length && this.eager.includes(from); i++) this.noteGain(from, hop, missing.peers[i], missing.hops[i] + 1, out);
    }
    // Peers that announced it have it: pushing it to them would only be a
    // duplicate (and the grafted peer would prune us, on top of the switch above).
    this.push({ id, payload, hop, bornAt }, from, now, out, missing ? [...missing.peers, ...missing.grafted] : []);
  }

  /** Eager push to the tree, lazy push (queued IHAVE) to the rest. */
  private push(copy: Copy, from: P | null, now: number, out: PlumTreeOutput<P>[], holders: readonly P[] = []): void {
    const message = gossipOf(copy.id, copy, now);
    for (const peer of this.eager) if (peer !== from && !holders.includes(peer)) out.push({ type: 'send', to: peer, message });
    for (const peer of this.lazy) if (peer !== from && !holders.includes(peer)) this.queueIhave(peer, copy.id, copy.hop, now, out);
  }

  private onIhave(from: P, id: string, hop: number, now: number, out: PlumTreeOutput<P>[]): void {
    if (this.received.has(id)) {
      const entry = this.cache.get(id);
      if (entry && entry.from !== null && entry.from !== from && !entry.viaGraft) this.noteGain(entry.from, entry.hop, from, hop + 1, out);
      return;
    }
    if (!this.isNeighbor(from)) return;
    let entry = this.missing.get(id);
    if (entry) {
      if (!entry.peers.includes(from)) {
        entry.peers.push(from);
        entry.hops.push(hop);
      }
      return;
    }
    entry = { peers: [from], hops: [hop], grafted: [], graftedHops: [] };
    this.missing.set(id, entry);
    // Over the cap the oldest goes (its pending timer then finds nothing to do).
    if (this.missing.size > this.config.maxMissing) this.missing.delete(this.missing.keys().next().value!);
    if (this.eager.length === 0 || now < this.orphanUntil) {
      // Nothing could bring it over the tree: graft at once.
      this.graftNext(id, entry, out);
    } else {
      out.push({ type: 'set-timer', delayMs: this.config.graftTimeout1Ms, timer: { type: 'graft-timeout', id } });
    }
  }

  private onTimer(timer: PlumTreeTimer, now: number, out: PlumTreeOutput<P>[]): void {
    if (timer.type === 'ihave-dispatch') {
      this.dispatchArmed = false;
      this.lastDispatchAt = now;
      for (const [peer, batch] of this.ihaveQueue) {
        if (batch.ids.length > 0 && this.isNeighbor(peer)) out.push({ type: 'send', to: peer, message: { type: 'ihave', ids: batch.ids, hops: batch.hops } });
      }
      this.ihaveQueue.clear();
      return;
    }
    const entry = this.missing.get(timer.id);
    if (entry) this.graftNext(timer.id, entry, out);
  }

  /** Grafts the next announcer still in the view, and waits for the next one. */
  private graftNext(id: string, entry: Missing<P>, out: PlumTreeOutput<P>[]): void {
    while (entry.peers.length > 0) {
      // Of the announcers heard so far, the one closest to the origin.
      let best = 0;
      for (let i = 1; i < entry.hops.length; i++) if (entry.hops[i] < entry.hops[best]) best = i;
      const peer = entry.peers[best];
      const hop = entry.hops[best];
      entry.peers.splice(best, 1);
      entry.hops.splice(best, 1);
      if (!this.isNeighbor(peer)) continue;
      this.makeEager(peer);
      entry.grafted.push(peer);
      entry.graftedHops.push(hop);
      this.stats.grafts++;
      out.push({ type: 'send', to: peer, message: { type: 'graft', id } });
      out.push({ type: 'set-timer', delayMs: this.config.graftTimeout2Ms, timer: { type: 'graft-timeout', id } });
      return;
    }
    // Nobody left to ask; a later IHAVE starts over.
    this.missing.delete(id);
    this.stats.abandoned++;
  }

  /**
   * A message came over the eager link at `eagerHop`; the lazy peer has it
   * at `lazyHop - 1`. Swap the two links if the lazy path is shorter by the
   * threshold in this message, or saved enough hops over consecutive ones.
   */
  private noteGain(eagerPeer: P, eagerHop: number, lazyPeer: P, lazyHop: number, out: PlumTreeOutput<P>[]): void {
    if (!this.lazy.includes(lazyPeer) || !this.eager.includes(eagerPeer)) return;
    const gain = eagerHop - lazyHop;
    if (gain >= this.config.optimisationThreshold) return this.swap(eagerPeer, lazyPeer, out);
    if (this.gains.note(eagerPeer, lazyPeer, gain)) this.swap(eagerPeer, lazyPeer, out);
  }

  private swap(eagerPeer: P, lazyPeer: P, out: PlumTreeOutput<P>[]): void {
    this.stats.optimisations++;
    this.makeEager(lazyPeer);
    out.push({ type: 'send', to: lazyPeer, message: { type: 'graft', id: null } });
    this.demote(eagerPeer, out);
  }

  /** Makes an eager link lazy at both ends (we send a prune). */
  private demote(peer: P, out: PlumTreeOutput<P>[]): void {
    this.makeLazy(peer);
    this.stats.prunes++;
    out.push({ type: 'send', to: peer, message: { type: 'prune' } });
  }

  private onNeighborUp(peer: P, now: number, out: PlumTreeOutput<P>[]): void {
    if (peer === this.self || this.isNeighbor(peer)) return;
    if (this.config.newNeighborsEager) this.eager.push(peer);
    else this.lazy.push(peer);
    const window = this.config.announceRecentMs;
    if (window <= 0) return;
    // The most recent ones, one IHAVE's worth at most: the cost of a neighbour-up stays bounded.
    const recent: string[] = [];
    // By the message's age, not when it reached us: a newcomer told of a message
    // must not pass it on to the next newcomers as if it were new.
    for (const [id, entry] of this.cache) if (entry.bornAt >= now - window && entry.from !== peer) recent.push(id);
    for (const id of recent.slice(-this.config.maxIhaveIds)) this.queueIhave(peer, id, (this.cache.get(id) as CacheEntry<P>).hop, now, out);
  }

  private onNeighborDown(peer: P, now: number, out: PlumTreeOutput<P>[]): void {
    const wasEager = remove(this.eager, peer);
    const wasParent = wasEager && this.config.orphanGraftMs > 0 && now - (this.lastFirstFrom.get(peer) ?? -Infinity) <= this.config.messageCacheMs;
    remove(this.lazy, peer);
    this.lastFirstFrom.delete(peer);
    this.gains.drop(peer);
    this.ihaveQueue.delete(peer);
    // Our parent for some senders is gone: what they send next reaches us
    // only by IHAVE, and waiting the graft timeout for each would hold back
    // every later operation of theirs (delivered in log order). Graft at once.
    if (wasParent) this.orphanUntil = now + this.config.orphanGraftMs;
    for (const [id, entry] of this.missing) {
      const last = entry.grafted[entry.grafted.length - 1];
      // A graft sent to this peer will not be answered: ask the next one now.
      if (last === peer || (wasParent && last === undefined)) this.graftNext(id, entry, out);
    }
  }

  private queueIhave(peer: P, id: string, hop: number, now: number, out: PlumTreeOutput<P>[]): void {
    let batch = this.ihaveQueue.get(peer);
    if (!batch) {
      batch = { ids: [], hops: [] };
      this.ihaveQueue.set(peer, batch);
    }
    if (batch.ids.length >= this.config.maxIhaveIds) {
      out.push({ type: 'send', to: peer, message: { type: 'ihave', ids: batch.ids, hops: batch.hops } });
      batch = { ids: [], hops: [] };
      this.ihaveQueue.set(peer, batch);
    }
    batch.ids.push(id);
    batch.hops.push(hop);
    if (!this.dispatchArmed) {
      this.dispatchArmed = true;
      // Busy (the last batch went out a moment ago): a longer batch, fewer frames.
      const busy = now - this.lastDispatchAt < this.config.ihaveBusyDispatchMs;
      out.push({ type: 'set-timer', delayMs: busy ? this.config.ihaveBusyDispatchMs : this.config.ihaveDispatchMs, timer: { type: 'ihave-dispatch' } });
    }
  }

  private makeEager(peer: P): void {
    if (this.eager.includes(peer)) return;
    remove(this.lazy, peer);
    this.eager.push(peer);
    this.gains.drop(peer);
  }

  private makeLazy(peer: P): void {
    if (!remove(this.eager, peer)) return;
    this.lazy.push(peer);
    this.gains.drop(peer);
  }

  private isNeighbor(peer: P): boolean {
    return this.eager.includes(peer) || this.lazy.includes(peer);
  }

  private sweep(now: number): void {
    this.nextSweep = now + this.config.sweepIntervalMs;
    const idLimit = now - this.config.idCacheMs;
    for (const [id, at] of this.received) {
      if (at > idLimit) break;
      this.received.delete(id);
    }
    const cacheLimit = now - this.config.messageCacheMs;
    for (const [id, entry] of this.cache) {
      if (entry.at > cacheLimit) break;
      this.cacheDelete(id, entry);
    }
  }

  private remember(id: string, now: number): void {
    this.received.set(id, now);
    if (this.received.size > this.config.maxReceivedIds) this.received.delete(this.received.keys().next().value!);
  }

  /** Caches a payload for grafts; over the count or byte cap the oldest entries go. */
  private cacheSet(id: string, entry: CacheEntry<P>): void {
    this.cache.set(id, entry);
    this.cacheBytes += entry.payload.length;
    for (const [oldId, old] of this.cache) {
      if (this.cache.size <= this.config.maxCacheEntries && this.cacheBytes <= this.config.maxCacheBytes) break;
      this.cacheDelete(oldId, old);
    }
  }

  private cacheDelete(id: string, entry: CacheEntry<P>): void {
    this.cache.delete(id);
    this.cacheBytes -= entry.payload.length;
  }
}

/** The eager copy of a cached message: one hop further, its age on our clock. */
function gossipOf(id: string, copy: { payload: Uint8Array; hop: number; bornAt: number }, now: number): PlumTreeMessage {
  return { type: 'gossip', id, payload: copy.payload, hop: copy.hop + 1, age: Math.max(0, Math.round(now - copy.bornAt)) };
}

function remove<P>(list: P[], item: P): boolean {
  const i = list.indexOf(item);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
