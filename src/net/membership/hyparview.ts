import { KeyedBudget, TokenBucket } from './budget.ts';
import { sample, type Random } from './random.ts';
import {
  DEFAULT_HYPARVIEW_CONFIG,
  type HyParViewConfig,
  type HyParViewInput,
  type HyParViewMessage,
  type HyParViewOutput,
  type HyParViewTimer,
  type NeighborPriority,
  type PeerId,
} from './types.ts';
import { checkHyParViewMessage } from './validate.ts';

type PendingKind = 'join' | 'neighbor' | 'swap';

/**
 * HyParView (Leitão, Pereira, Rodrigues, DSN 2007) as a sans-IO machine: a
 * small symmetric active view of open connections (the broadcast overlay)
 * and a larger passive view of addresses kept fresh by shuffles, from which
 * a failed active peer is replaced at once. Connection failures reported by
 * the driver (`peer-down`) are the failure detector, as TCP is in the paper.
 *
 * One instance serves one topic. All choices come from the `Random` passed
 * in and all time from timers, so the machine is deterministic.
 */
export class HyParView<P extends PeerId = PeerId> {
  readonly self: P;
  readonly config: Readonly<HyParViewConfig>;
  private readonly rng: Random;
  private readonly active: P[] = [];
  private readonly passive: P[] = [];
  private bootstrap: P[] = [];
  private joinQueue: P[] = [];
  private readonly pending = new Map<P, PendingKind>();
  private lastShuffle: P[] = [];
  private repairArmed = false;
  private started = false;
  /** When `noteStarved` last asked for a new peer. */
  private lastRescue = -Infinity;
  /**
   * Peers the driver reported down, and when (oldest first): others' lists
   * do not bring them back for `downMemoryMs`. A banned peer stays out, and
   * a crashed one is not re-learnt from stale shuffles.
   */
  private readonly down = new Map<P, number>();
  private left = false;
  private keep: ((peer: P) => boolean) | null = null;
  private shuffleOutstanding = false;
  /**
   * Replies to our shuffles in a row that named no peer we did not know.
   * The fast shuffle stops after three: in a network too small to fill half
   * the passive view it went on for good, every node shuffling every 3 s
   * (four fifths of an idle 8-node cluster's membership traffic).
   */
  private barrenShuffles = 0;
  /** Time of the input being handled (the driver passes it in). */
  private now = 0;
  // Defences against hostile peers; see the config fields of the same names.
  private readonly evictions: TokenBucket;
  /** When each active peer last gave us a valid message first (see `noteUseful`). */
  private readonly useful = new Map<P, number>();
  private readonly joins: KeyedBudget<P>;
  private readonly highRequests: KeyedBudget<P>;
  private readonly forwardJoins: KeyedBudget<P>;
  private readonly shuffles: KeyedBudget<P>;
  /** Who put each passive entry there (absent: this node itself). */
  private readonly passiveSource = new Map<P, P>();
  /** Passive entries from newcomer sources or self-introductions (see `addPassive`). */
  private readonly untrusted = new Set<P>();

  constructor(self: P, rng: Random, config: Partial<HyParViewConfig> = {}) {
    this.self = self;
    this.rng = rng;
    const c = (this.config = { ...DEFAULT_HYPARVIEW_CONFIG, ...config });
    const max = c.maxTrackedSenders;
    this.evictions = new TokenBucket(c.evictionBurst, c.evictionRefillMs);
    this.joins = new KeyedBudget(c.joinBurst, c.joinRefillMs, max);
    this.highRequests = new KeyedBudget(c.highRequestBurst, c.highRequestRefillMs, max);
    this.forwardJoins = new KeyedBudget(c.forwardJoinBurst, c.forwardJoinRefillMs, max);
    this.shuffles = new KeyedBudget(c.shuffleBurst, c.shuffleRefillMs, max);
  }

  /**
   * When the active view is full and a peer must make room, prefer to evict
   * one for which `keep` is false. The overlay passes "is a broadcast tree
   * link", so that rotations and joins cut lazy links rather than the tree.
   */
  setKeepPreference(keep: ((peer: P) => boolean) | null): void {
    this.keep = keep;
  }

  activeView(): readonly P[] {
    return this.active;
  }

  passiveView(): readonly P[] {
    return this.passive;
  }

  isActive(peer: P): boolean {
    return this.active.includes(peer);
  }

  hasLeft(): boolean {
    return this.left;
  }

  handle(input: HyParViewInput<P>, now: number): HyParViewOutput<P>[] {
    const out: HyParViewOutput<P>[] = [];
    if (this.left) return out;
    if (now > this.now) this.now = now;
    switch (input.type) {
      case 'recv': {
        const reason = checkHyParViewMessage(input.message, this.config.maxShufflePeers);
        if (reason !== null || input.from === this.self) {
          out.push({ type: 'emit', event: { type: 'dropped', from: input.from, reason: reason ?? 'message from self' } });
        } else {
          this.onMessage(input.from, input.message, out);
        }
        break;
      }
      case 'timer':
        this.onTimer(input.timer, out);
        break;
      case 'command':
        if (input.command.type === 'join') this.onJoinCommand(input.command.peers, out);
        else this.onLeave(out);
        break;
      case 'peer-down':
        this.onPeerDown(input.peer, out);
        break;
    }
    return out;
  }

  private onMessage(from: P, msg: HyParViewMessage<P>, out: HyParViewOutput<P>[]): void {
    switch (msg.type) {
      case 'join':
        return this.onJoin(from, out);
      case 'forward-join':
        return this.onForwardJoin(from, msg.peer, msg.ttl, out);
      case 'neighbor':
        return this.onNeighbor(from, msg.priority, out);
      case 'neighbor-reply':
        return this.onNeighborReply(from, msg.accepted, out);
      case 'disconnect':
        return this.onDisconnect(from, msg.alive, out);
      case 'shuffle':
        return this.onShuffle(from, msg.origin, msg.ttl, msg.peers, out);
      case 'shuffle-reply':
        // Unasked, only from an active peer; either way within its budget.
        if (!this.shuffleOutstanding && !this.active.includes(from)) return this.drop(from, 'unsolicited shuffle-reply', out);
        if (!this.shuffles.take(from, this.now)) return this.drop(from, 'shuffle rate over budget', out);
        if (this.shuffleOutstanding) {
          const taught = msg.peers.some((p) => p !== this.self && !this.active.includes(p) && !this.passive.includes(p));
          this.barrenShuffles = taught ? 0 : this.barrenShuffles + 1;
        }
        this.addAllPassive(msg.peers, this.lastShuffle, from, this.shuffleOutstanding ? this.config.maxPassivePerSource : undefined);
        this.shuffleOutstanding = false;
        this.lastShuffle = [];
        return;
    }
  }

  private drop(from: P, reason: string, out: HyParViewOutput<P>[]): void {
    out.push({ type: 'emit', event: { type: 'dropped', from, reason } });
  }

  /**
   * May another peer's request (JOIN, NEIGHBOR, a forward join ending here)
   * take an active slot now? Into a free slot, yes; with a full view only
   * if `mayEvict`, if someone may be evicted, and within the eviction budget.
   */
  private admitNewcomer(mayEvict: boolean): boolean {
    if (!this.fullForNewcomer()) return true;
    return mayEvict && this.evictable().length > 0 && this.evictions.take(this.now);
  }

  /**
   * Full for requests from others: our own pending neighbour requests hold
   * their slots (else a flood fills a freed slot first and their answers
   * evict someone, past the eviction budget).
   */
  private fullForNewcomer(): boolean {
    let reserved = 0;
    for (const kind of this.pending.values()) if (kind !== 'swap') reserved++;
    return this.active.length + reserved >= this.config.activeViewCapacity;
  }

  private onTimer(timer: HyParViewTimer<P>, out: HyParViewOutput<P>[]): void {
    switch (timer.type) {
      case 'repair':
        this.repairArmed = false;
        this.fill(out);
        return;
      case 'shuffle':
        this.shuffle(out);
        this.armPeriodic('shuffle', this.shuffleInterval(), out);
        return;
      case 'rotate':
        this.armPeriodic('rotate', this.config.rotateIntervalMs, out);
        this.rotate(out);
        return;
      case 'neighbor-timeout': {
        const kind = this.pending.get(timer.peer);
        if (kind === undefined) return;
        this.pending.delete(timer.peer);
        if (!this.active.includes(timer.peer)) out.push({ type: 'disconnect', peer: timer.peer });
        this.removePassive(timer.peer);
        this.afterFailure(kind, out);
        return;
      }
    }
  }

  // --- join -----------------------------------------------------------------

  private onJoinCommand(peers: P[], out: HyParViewOutput<P>[]): void {
    const fresh: P[] = [];
    for (const p of peers) if (p !== this.self && !fresh.includes(p)) fresh.push(p);
    this.bootstrap = fresh;
    this.joinQueue = fresh.slice();
    if (!this.started) {
      this.started = true;
      this.armPeriodic('shuffle', this.config.fastShuffleIntervalMs, out);
      this.armPeriodic('rotate', this.config.rotateIntervalMs, out);
    }
    this.tryJoin(out);
  }

  private tryJoin(out: HyParViewOutput<P>[]): void {
    while (this.joinQueue.length > 0) {
      const peer = this.joinQueue.shift() as P;
      if (this.active.includes(peer) || this.pending.has(peer)) continue;
      this.pending.set(peer, 'join');
      out.push({ type: 'connect', peer });
      out.push({ type: 'send', to: peer, message: { type: 'join' } });
      out.push({ type: 'set-timer', delayMs: this.config.neighborRequestTimeoutMs, timer: { type: 'neighbor-timeout', peer } });
      return;
    }
    this.fill(out);
  }

  private onJoin(from: P, out: HyParViewOutput<P>[]): void {
    const known = this.active.includes(from);
    // A sender's repeated JOINs start no new walks: each is a plain HIGH request.
    if (!known && !this.joins.take(from, this.now)) return this.onNeighbor(from, 'high', out);
    if (known) {
      out.push({ type: 'send', to: from, message: { type: 'neighbor-reply', accepted: true } });
      return;
    }
    const accepted = this.admitNewcomer(true);
    if (accepted) this.addActive(from, out);
    else this.addPassive(from, undefined, from);
    out.push({ type: 'send', to: from, message: { type: 'neighbor-reply', accepted } });
    // The walks go out even when this view cannot take the newcomer: they
    // find it neighbours across the overlay. Without them, a newcomer whose
    // contact was out of eviction budget knew only that contact, and the
    // next newcomers joining through it formed a group cut off from the rest.
    const ttl = this.config.activeRandomWalkLength;
    for (const peer of this.active) {
      if (peer !== from) out.push({ type: 'send', to: peer, message: { type: 'forward-join', peer: from, ttl } });
    }
  }

  private onForwardJoin(from: P, peer: P, ttl: number, out: HyParViewOutput<P>[]): void {
    // Walks travel over active links only, within the sender's budget.
    if (!this.active.includes(from)) return this.drop(from, 'forward-join from a peer not in the active view', out);
    if (!this.forwardJoins.take(from, this.now)) return this.drop(from, 'forward-join rate over budget', out);
    if (peer === this.self || this.active.includes(peer)) return;
    if (ttl <= 0 || this.active.length <= 1) {
      this.endWalk(from, peer, out);
      return;
    }
    if (ttl === this.config.passiveRandomWalkLength) this.addPassive(peer, undefined, from);
    const next = this.randomActive((p) => p === from || p === peer);
    if (next === undefined) this.endWalk(from, peer, out);
    else out.push({ type: 'send', to: next, message: { type: 'forward-join', peer, ttl: ttl - 1 } });
  }

  /** A forward join ends here: ask the joiner, if a newcomer may have a slot. */
  private endWalk(from: P, peer: P, out: HyParViewOutput<P>[]): void {
    if (this.pending.has(peer)) return;
    if (this.admitNewcomer(true)) this.requestNeighbor(peer, 'high', 'neighbor', out);
    else this.addPassive(peer, undefined, from);
  }

  // --- neighbour requests ---------------------------------------------------

  private requestNeighbor(peer: P, priority: NeighborPriority, kind: PendingKind, out: HyParViewOutput<P>[]): void {
    if (peer === this.self || this.pending.has(peer) || this.active.includes(peer)) return;
    this.pending.set(peer, kind);
    out.push({ type: 'connect', peer });
    out.push({ type: 'send', to: peer, message: { type: 'neighbor', priority } });
    out.push({ type: 'set-timer', delayMs: this.config.neighborRequestTimeoutMs, timer: { type: 'neighbor-timeout', peer } });
  }

  private onNeighbor(from: P, priority: NeighborPriority, out: HyParViewOutput<P>[]): void {
    const known = this.active.includes(from);
    // A sender that keeps claiming to be isolated is heard as LOW.
    if (priority === 'high' && !known && !this.highRequests.take(from, this.now)) priority = 'low';
    // A rotation must not cut a link the keep preference protects (a tree
    // link of the broadcast): with nothing else to give up, say no.
    const accept = known || this.admitNewcomer(priority === 'high' || (priority === 'swap' && this.hasLooseLink()));
    if (accept) this.addActive(from, out);
    else this.addPassive(from, undefined, from);
    out.push({ type: 'send', to: from, message: { type: 'neighbor-reply', accepted: accept } });
  }

  private onNeighborReply(from: P, accepted: boolean, out: HyParViewOutput<P>[]): void {
    this.pending.delete(from);
    if (accepted) {
      // Also for a reply that comes after our timeout: the peer has added
      // us, and keeping the views symmetric matters more than the timeout.
      this.addActive(from, out);
      return;
    }
    if (!this.active.includes(from)) out.push({ type: 'disconnect', peer: from });
    this.addPassive(from, undefined, from);
    this.armRepair(out);
  }

  private onDisconnect(from: P, alive: boolean, out: HyParViewOutput<P>[]): void {
    const kind = this.pending.get(from);
    this.pending.delete(from);
    if (this.removeActive(from)) {
      out.push({ type: 'disconnect', peer: from });
      out.push({ type: 'emit', event: { type: 'neighbor-down', peer: from } });
    } else if (kind !== undefined) {
      out.push({ type: 'disconnect', peer: from });
    }
    if (alive) this.addPassive(from, undefined, from);
    else this.removePassive(from);
    if (kind === 'join') this.tryJoin(out);
    else this.fill(out);
  }

  private onPeerDown(peer: P, out: HyParViewOutput<P>[]): void {
    this.down.delete(peer);
    this.down.set(peer, this.now);
    for (const [p, at] of this.down) {
      if (this.down.size <= this.config.maxDownRemembered && this.now - at < this.config.downMemoryMs) break;
      this.down.delete(p);
    }
    const kind = this.pending.get(peer);
    this.pending.delete(peer);
    const wasActive = this.removeActive(peer);
    this.removePassive(peer);
    if (wasActive) {
      out.push({ type: 'disconnect', peer });
      out.push({ type: 'emit', event: { type: 'neighbor-down', peer } });
    }
    if (kind !== undefined) this.afterFailure(kind, out);
    else if (wasActive) this.fill(out);
  }

  private afterFailure(kind: PendingKind, out: HyParViewOutput<P>[]): void {
    if (kind === 'join') this.tryJoin(out);
    else this.fill(out);
  }

  private onLeave(out: HyParViewOutput<P>[]): void {
    for (const peer of this.active) {
      out.push({ type: 'send', to: peer, message: { type: 'disconnect', alive: false } });
      out.push({ type: 'disconnect', peer });
      out.push({ type: 'emit', event: { type: 'neighbor-down', peer } });
    }
    for (const peer of this.pending.keys()) out.push({ type: 'disconnect', peer });
    this.active.length = 0;
    this.useful.clear();
    this.passive.length = 0;
    this.passiveSource.clear();
    this.untrusted.clear();
    this.pending.clear();
    this.left = true;
  }

  // --- repair, rotation, shuffle --------------------------------------------

  /**
   * Asks passive peers to fill free active slots: one `high` request when
   * the view is empty, otherwise a `low` request per free slot; with fewer
   * than `highRequestBelow` active peers the first of them is `high`.
   */
  private fill(out: HyParViewOutput<P>[]): void {
    const cap = this.config.activeViewCapacity;
    let pendingNeighbors = 0;
    for (const kind of this.pending.values()) if (kind !== 'swap') pendingNeighbors++;
    let free = cap - this.active.length - pendingNeighbors;
    if (this.active.length === 0 && pendingNeighbors > 0) free = 0;
    // A node left with one or two peers may sit in a small group cut off
    // from the rest (full views refuse LOW requests, and its passive view
    // knows only the group): one HIGH request reattaches it before the
    // group grows by joins through its members.
    let high = this.active.length < this.config.highRequestBelow && pendingNeighbors === 0;
    while (free > 0) {
      let candidate = this.randomPassive();
      if (candidate === undefined && high) candidate = this.randomBootstrap();
      if (candidate === undefined) break;
      this.requestNeighbor(candidate, high ? 'high' : 'low', 'neighbor', out);
      free = this.active.length === 0 ? 0 : free - 1;
      high = false;
    }
    if (this.active.length === 0 && this.pending.size === 0) {
      out.push({ type: 'emit', event: { type: 'isolated' } });
    }
    if (this.active.length < cap) this.armRepair(out);
  }

  private rotate(out: HyParViewOutput<P>[]): void {
    if (this.active.length < this.config.activeViewCapacity) {
      this.fill(out);
      return;
    }
    for (const kind of this.pending.values()) if (kind === 'swap') return;
    if (!this.hasLooseLink()) return;
    let candidate: P | undefined;
    if (this.rng.next() < this.config.rotateBootstrapChance) candidate = this.randomBootstrap();
    if (candidate === undefined) candidate = this.randomPassive();
    if (candidate !== undefined) this.requestNeighbor(candidate, 'swap', 'swap', out);
  }

  private shuffle(out: HyParViewOutput<P>[]): void {
    const target = this.randomActive();
    if (target === undefined) return;
    const c = this.config;
    const relays = this.active.some((p) => this.isUseful(p));
    const peers = sample(this.active, c.shuffleActiveCount, this.rng, (p) => p === target || (relays && !this.isUseful(p)));
    for (const p of sample(this.passive, c.shufflePassiveCount, this.rng, (p) => p === target || !this.vouched(p))) peers.push(p);
    this.lastShuffle = peers.slice();
    this.shuffleOutstanding = true;
    const message: HyParViewMessage<P> = { type: 'shuffle', origin: this.self, ttl: c.shuffleRandomWalkLength, peers };
    out.push({ type: 'send', to: target, message });
  }

  private onShuffle(from: P, origin: P, ttl: number, peers: P[], out: HyParViewOutput<P>[]): void {
    if (!this.active.includes(from)) return this.drop(from, 'shuffle from a peer not in the active view', out);
    if (!this.shuffles.take(from, this.now)) return this.drop(from, 'shuffle rate over budget', out);
    if (origin === this.self) return;
    if (ttl - 1 > 0 && this.active.length > 1) {
      const next = this.randomActive((p) => p === from || p === origin);
      if (next !== undefined) {
        out.push({ type: 'send', to: next, message: { type: 'shuffle', origin, ttl: ttl - 1, peers } });
        return;
      }
    }
    const reply = sample(this.passive, peers.length + 1, this.rng, (p) => p === origin || !this.vouched(p));
    out.push({ type: 'send', to: origin, message: { type: 'shuffle-reply', peers: reply } });
    this.addAllPassive(peers, reply, from);
    this.addPassive(origin, reply, from);
  }

  private shuffleInterval(): number {
    const c = this.config;
    const thin = this.passive.length * 2 < c.passiveViewCapacity;
    return thin && this.barrenShuffles < 3 ? Math.min(c.fastShuffleIntervalMs, c.shuffleIntervalMs) : c.shuffleIntervalMs;
  }

  private armRepair(out: HyParViewOutput<P>[]): void {
    if (this.repairArmed) return;
    this.repairArmed = true;
    const delayMs = this.config.repairIntervalMs * (0.5 + this.rng.next());
    out.push({ type: 'set-timer', delayMs, timer: { type: 'repair' } });
  }

  private armPeriodic(type: 'shuffle' | 'rotate', intervalMs: number, out: HyParViewOutput<P>[]): void {
    if (intervalMs <= 0) return;
    out.push({ type: 'set-timer', delayMs: intervalMs * (0.5 + this.rng.next()), timer: { type } });
  }

  // --- views ----------------------------------------------------------------

  private addActive(peer: P, out: HyParViewOutput<P>[]): void {
    if (peer === this.self || this.active.includes(peer)) return;
    this.pending.delete(peer);
    this.removePassive(peer);
    if (this.active.length >= this.config.activeViewCapacity) {
      const victim = this.pickVictim();
      this.removeActive(victim);
      out.push({ type: 'send', to: victim, message: { type: 'disconnect', alive: true } });
      out.push({ type: 'disconnect', peer: victim });
      out.push({ type: 'emit', event: { type: 'neighbor-down', peer: victim } });
      // Vouched for by itself only: kept if there is room, tried last.
      this.addPassive(victim, undefined, victim);
    }
    this.active.push(peer);
    out.push({ type: 'connect', peer });
    out.push({ type: 'emit', event: { type: 'neighbor-up', peer } });
  }

  /** Active peers that may be evicted: all but up to `protectedActivePeers` that relay to us (`noteUseful`). */
  private evictable(): P[] {
    const keepCount = Math.min(this.config.protectedActivePeers, this.active.length - 1);
    if (keepCount <= 0) return this.active.slice();
    // Protected: peers that lately gave us a valid message first (in view
    // order). Only relaying real messages earns it; age does not (an
    // attacker that got in would keep its slot forever).
    const kept: P[] = [];
    for (const p of this.active) if (kept.length < keepCount && this.isUseful(p)) kept.push(p);
    return this.active.filter((p) => !kept.includes(p));
  }

  private isUseful(peer: P): boolean {
    const at = this.useful.get(peer);
    return at !== undefined && this.now - at < this.config.usefulWindowMs;
  }

  /**
   * The broadcast layer reports that `peer` gave us a valid message before
   * anyone else did: evidence that it relays, which protects its slot.
   */
  noteUseful(peer: P, now: number): void {
    if (now > this.now) this.now = now;
    if (this.active.includes(peer)) this.useful.set(peer, now);
  }

  /**
   * The broadcast layer gave up on a message: every peer that announced it
   * was asked and none delivered. If no active peer relays to us either, we
   * are cut off by peers that announce but never deliver (an eclipse that
   * proves nothing against any one of them): ask a passive peer for a slot
   * at HIGH priority, as an isolated node does; with a full view, the answer
   * evicts a peer that does not relay. At most once per `starvedRetryMs`.
   */
  noteStarved(now: number): HyParViewOutput<P>[] {
    if (now > this.now) this.now = now;
    const out: HyParViewOutput<P>[] = [];
    if (this.left || !this.started || this.now - this.lastRescue < this.config.starvedRetryMs) return out;
    if (this.active.some((p) => this.isUseful(p))) return out;
    const candidate = this.randomPassive();
    if (candidate === undefined) return out;
    this.lastRescue = this.now;
    const full = this.active.length >= this.config.activeViewCapacity;
    this.requestNeighbor(candidate, 'high', full ? 'swap' : 'neighbor', out);
    return out;
  }

  private hasLooseLink(): boolean {
    const keep = this.keep;
    const candidates = this.evictable();
    return keep === null ? candidates.length > 0 : candidates.some((p) => !keep(p));
  }

  /**
   * A random evictable peer, preferring one that has not lately relayed to
   * us, then one the keep preference does not hold (a lazy link).
   */
  private pickVictim(): P {
    const keep = this.keep;
    let candidates = this.evictable();
    const idle = candidates.filter((p) => !this.isUseful(p));
    if (idle.length > 0) candidates = idle;
    if (keep) {
      const loose = candidates.filter((p) => !keep(p));
      if (loose.length > 0) candidates = loose;
    }
    return candidates[this.rng.int(candidates.length)];
  }

  private removeActive(peer: P): boolean {
    const i = this.active.indexOf(peer);
    if (i < 0) return false;
    this.active.splice(i, 1);
    this.useful.delete(peer);
    return true;
  }

  /**
   * `source`: the peer that told us of `peer` (none: our own knowledge). One
   * source holds at most `quota` entries (`maxPassivePerSource` for a
   * long-held active peer or the answer to our shuffle, otherwise
   * `maxPassivePerNewSource`); past that, its new entries replace its old
   * ones. Newcomers, where a flood lands, can barely touch the passive view.
   */
  private addPassive(peer: P, preferEvict?: readonly P[], source?: P, quota = this.quotaOf(source)): void {
    if (peer === this.self || this.active.includes(peer) || this.passive.includes(peer)) return;
    if (source !== undefined && source !== peer && this.wentDown(peer)) return;
    // A peer that only vouches for itself (it asked us, or was refused) takes
    // a free place but never pushes out an address someone else gave us.
    if (source === peer && this.passive.length >= this.config.passiveViewCapacity) return;
    if (source !== undefined && source !== peer && quota > 0) {
      const own: P[] = [];
      for (const p of this.passive) if (this.passiveSource.get(p) === source) own.push(p);
      if (own.length >= quota) this.removePassive(own[this.rng.int(own.length)]);
    }
    // Entries from newcomers and self-introductions share a small pool, so
    // many attacker ids, each within its own quota, cannot fill the view.
    const untrusted = source !== undefined && (source === peer || quota < this.config.maxPassivePerSource);
    if (untrusted && this.untrusted.size >= this.config.maxUntrustedPassive) {
      if (source === peer) return;
      const pool = [...this.untrusted];
      this.removePassive(pool[this.rng.int(pool.length)]);
    }
    if (this.passive.length >= this.config.passiveViewCapacity) {
      let i = -1;
      if (preferEvict) {
        for (const p of preferEvict) {
          i = this.passive.indexOf(p);
          if (i >= 0) break;
        }
      }
      if (i < 0) i = this.rng.int(this.passive.length);
      this.removePassive(this.passive[i]);
    }
    this.passive.push(peer);
    if (source !== undefined) this.passiveSource.set(peer, source);
    if (untrusted) this.untrusted.add(peer);
  }

  private addAllPassive(peers: readonly P[], preferEvict: readonly P[], source: P, quota = this.quotaOf(source)): void {
    for (const p of peers) this.addPassive(p, preferEvict, source, quota);
  }

  private quotaOf(source: P | undefined): number {
    if (source === undefined) return 0;
    // While messages flow, only a peer that relays to us vouches for others
    // (an attacker that got in early is old but never relays); in a quiet
    // overlay, age stands in.
    const trusted = this.active.some((p) => this.isUseful(p))
      ? this.isUseful(source)
      : this.active.indexOf(source) >= 0 && this.active.indexOf(source) < this.config.protectedActivePeers;
    return trusted ? this.config.maxPassivePerSource : this.config.maxPassivePerNewSource;
  }

  /**
   * Whether a passive entry is passed on in shuffles: not one that only a
   * newcomer or the peer itself vouched for. Otherwise honest nodes spread
   * the ids attackers feed them, and the pools that bound one node's
   * pollution do not bound the network's.
   */
  private vouched(peer: P): boolean {
    return !this.untrusted.has(peer) && this.passiveSource.get(peer) !== peer;
  }

  private wentDown(peer: P): boolean {
    const at = this.down.get(peer);
    return at !== undefined && this.now - at < this.config.downMemoryMs;
  }

  private removePassive(peer: P): void {
    const i = this.passive.indexOf(peer);
    if (i < 0) return;
    this.passiveSource.delete(peer);
    this.untrusted.delete(peer);
    this.passive[i] = this.passive[this.passive.length - 1];
    this.passive.pop();
  }

  private randomActive(skip?: (p: P) => boolean): P | undefined {
    return pick(this.active, this.rng, skip);
  }

  /** Prefers addresses that someone else gave us over self-introductions. */
  private randomPassive(): P | undefined {
    const vouched = pick(this.passive, this.rng, (p) => this.pending.has(p) || this.passiveSource.get(p) === p);
    if (vouched !== undefined) return vouched;
    return pick(this.passive, this.rng, (p) => this.pending.has(p));
  }

  private randomBootstrap(): P | undefined {
    return pick(this.bootstrap, this.rng, (p) => this.pending.has(p) || this.active.includes(p));
  }
}

function pick<P>(items: readonly P[], rng: Random, skip?: (p: P) => boolean): P | undefined {
  if (items.length === 0) return undefined;
  // Try a few random positions first (cheap), then scan.
  for (let i = 0; i < 4; i++) {
    const p = items[rng.int(items.length)];
    if (!skip?.(p)) return p;
  }
  const ok = skip ? items.filter((p) => !skip(p)) : items;
  return ok.length === 0 ? undefined : ok[rng.int(ok.length)];
}
