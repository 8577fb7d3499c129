/**
 * A seeded discrete-event network that runs the real overlay machines for
 * thousands of nodes in one process: virtual time, per-link latency, loss,
 * partitions, crashes (with connection-down events to the peers that held a
 * connection) and joins. Same seed, same run, byte for byte.
 *
 * Failure detection, `reset` (the default): a send to a crashed or
 * unreachable node bounces back as `peer-down` one link latency after it
 * arrives; a crash resets the connections that peers held to the node.
 * `keepalive`: a crashed node goes silent. What is sent to it, or across a
 * split, is lost without a word; peers holding a connection notice only by
 * the node's keepalive (src/net/transport/keepalive.ts: a ping every 10 s,
 * aborted after 5 s), and a dial to it fails after the dial timeout.
 *
 * Optional link and node costs: per-message jitter (links stay FIFO),
 * per-message processing at the receiver (one message at a time, so a busy
 * node queues), and loss (a lost message is gone: the overlay must repair).
 *
 * With `penalties` set, every plain (honest) node runs the node driver's
 * policy on misbehaving peers (src/net/gossip/peer-guard.ts, as the gossip
 * service does): its overlay's `invalid`/`dropped` events and stranger
 * messages score the sender; a ban feeds the overlay `peer-down` (out of
 * every view) and hangs up on the peer (it sees `peer-down` too); while
 * banned, the peer's messages bounce like a refused stream and a `connect`
 * to it is answered with `peer-down`.
 */
import type { PayloadValidator, PlumTreeConfig } from '../src/net/plumtree/types.ts';
import { Penalties, type PenaltyConfig } from '../src/net/gossip/penalties.ts';
import { PeerGuard } from '../src/net/gossip/peer-guard.ts';
import { mixSeed, SplitMix32 } from '../src/net/membership/random.ts';
import type { HyParViewConfig } from '../src/net/membership/types.ts';
import { Overlay, type OverlayEvent, type OverlayInput, type OverlayMessage, type OverlayOutput, type OverlayTimer } from '../src/net/overlay/overlay.ts';
import { KEEPALIVE } from '../src/net/transport/keepalive.ts';
import { EventHeap } from './heap.ts';
import { LinkModel, type LossMode } from './links.ts';
import { Tracker } from './metrics.ts';

export interface SimConfig {
  seed: number;
  /** Each link gets a fixed latency drawn uniformly from [min, max]. */
  latencyMinMs: number;
  latencyMaxMs: number;
  /** Chance that any one message (TCP segment) is lost on the way. */
  lossRate: number;
  /** What a loss costs: a retransmission (TCP, the default) or the message (see links.ts). */
  lossMode: LossMode;
  /** Each message waits a further uniform [0, jitterMs) on its link (the link stays first-in first-out). */
  jitterMs: number;
  /**
   * A node handles one message at a time: a payload (decode, verify, store)
   * costs this long, any other message a tenth of it; what it sends in
   * answer leaves when it is done, later arrivals wait their turn.
   */
  processingMs: number;
  /** How peers learn of a crash or split: TCP resets, or silence and the node's keepalive (see above). */
  failureDetection: 'reset' | 'keepalive';
  /** How long until connections across a new split report down (keepalive). */
  partitionDetectMs: number;
  hyparview: Partial<HyParViewConfig>;
  plumtree: Partial<PlumTreeConfig>;
  /** Payload check the nodes' overlays run (none: accept everything). */
  validate?: PayloadValidator;
  /** The driver's ban policy at plain nodes (none: no policy, as before). */
  penalties?: Partial<PenaltyConfig>;
}

/** What the simulator drives: the real overlay, or a wrapper around it (attackers). */
export interface SimNode {
  handle(input: OverlayInput<number>, now: number): OverlayOutput<number>[];
  activeView(): readonly number[];
  passiveView(): readonly number[];
}

/** Builds a node other than a plain overlay (given its id and its own seeded random source). */
export type NodeFactory = (id: number, rng: SplitMix32, sim: Simulator) => SimNode;

export const DEFAULT_SIM_CONFIG: Readonly<SimConfig> = Object.freeze({
  seed: 1,
  latencyMinMs: 10,
  latencyMaxMs: 100,
  lossRate: 0,
  lossMode: 'retransmit',
  jitterMs: 0,
  processingMs: 0,
  failureDetection: 'reset',
  partitionDetectMs: 1_000,
  hyparview: {},
  plumtree: {},
});

const MSG = 0,
  TIMER = 1,
  DOWN = 2,
  /** A message whose turn at a busy node has come (its slot was reserved on arrival). */
  TURN = 3;

/** Extra cost of handling a non-payload message, as a fraction of `processingMs`. */
const CONTROL_COST = 0.1;

interface SimEvent {
  t: number;
  seq: number;
  kind: number;
  node: number;
  peer: number;
  inc: number;
  data: OverlayMessage<number> | OverlayTimer<number> | { type: string } | null;
}

export interface MessageCounts {
  gossip: number;
  ihave: number;
  graft: number;
  prune: number;
  membership: number;
}

export interface Health {
  live: number;
  /** Live nodes with an empty active view. */
  isolated: number;
  /** Connected components of the live overlay (active links, undirected). */
  components: number;
}

export class Simulator {
  readonly config: SimConfig;
  readonly tracker = new Tracker();
  readonly counts: MessageCounts = { gossip: 0, ihave: 0, graft: 0, prune: 0, membership: 0 };
  /** The simulator's own choices (loss, scenario picks). */
  readonly rng: SplitMix32;
  now = 0;
  events = 0;
  private seq = 0;
  private readonly queue = new EventHeap<SimEvent>();
  private readonly nodes: (SimNode | null)[] = [];
  private readonly guards: (PeerGuard<number> | null)[] = [];
  /** Bans issued by guarded nodes, and how many were of a guarded (honest) peer. */
  readonly bans = { total: 0, ofGuarded: 0 };
  private readonly inc: number[] = [];
  private readonly want: (Set<number> | null)[] = [];
  private readonly wantedBy: (Set<number> | null)[] = [];
  private readonly group: number[] = [];
  private readonly pendingDown = new Set<number>();
  readonly joinedAt: number[] = [];
  readonly leftAt: number[] = [];
  private readonly aliveList: number[] = [];
  private readonly alivePos: number[] = [];
  private partitioned = false;
  private readonly links: LinkModel;
  private readonly silent: boolean;
  /** When each node is done with the message it is handling (processing cost). */
  private readonly busyUntil: number[] = [];
  /** Delay of what the node being dispatched sends (its processing time). */
  private outDelay = 0;
  /** Observers for scenarios that measure more than the tracker does. */
  onSend: ((from: number, to: number, message: OverlayMessage<number>) => void) | null = null;
  onEmit: ((node: number, event: OverlayEvent<number>) => void) | null = null;

  constructor(config: Partial<SimConfig> = {}) {
    this.config = { ...DEFAULT_SIM_CONFIG, ...config };
    this.rng = new SplitMix32(mixSeed(this.config.seed, 0x5eed));
    const c = this.config;
    this.links = new LinkModel(c);
    this.silent = c.failureDetection === 'keepalive';
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  get liveCount(): number {
    return this.aliveList.length;
  }

  liveNodes(): readonly number[] {
    return this.aliveList;
  }

  isAlive(node: number): boolean {
    return this.nodes[node] != null;
  }

  overlay(node: number): SimNode | null {
    return this.nodes[node] ?? null;
  }

  randomLive(): number {
    return this.aliveList[this.rng.int(this.aliveList.length)];
  }

  /** Fixed latency of the link between a and b (symmetric). */
  latency(a: number, b: number): number {
    return this.links.latency(a, b);
  }

  /** Adds a node and lets it join through `contacts`. Returns its id. */
  addNode(contacts: number[], factory?: NodeFactory): number {
    const id = this.nodes.length;
    const rng = new SplitMix32(mixSeed(this.config.seed, id, 1));
    const node = factory
      ? factory(id, rng, this)
      : new Overlay<number>(id, rng, { hyparview: this.config.hyparview, plumtree: this.config.plumtree }, this.config.validate);
    this.nodes.push(node);
    const guarded = !factory && this.config.penalties !== undefined;
    this.guards.push(guarded ? new PeerGuard<number>(id, new Penalties<number>(this.config.penalties)) : null);
    this.inc.push(0);
    this.want.push(new Set());
    this.wantedBy.push(new Set());
    this.group.push(0);
    this.busyUntil.push(0);
    this.joinedAt.push(this.now);
    this.leftAt.push(Infinity);
    this.alivePos.push(this.aliveList.length);
    this.aliveList.push(id);
    this.apply(id, node.handle({ type: 'command', command: { type: 'join', peers: contacts } }, this.now));
    return id;
  }

  /** Kills a node at once; peers holding a connection to it see it drop (at once, or by keepalive). */
  crash(node: number): void {
    if (!this.nodes[node]) return;
    this.nodes[node] = null;
    this.guards[node] = null;
    this.inc[node]++;
    this.leftAt[node] = this.now;
    const pos = this.alivePos[node];
    const last = this.aliveList.pop() as number;
    if (last !== node) {
      this.aliveList[pos] = last;
      this.alivePos[last] = pos;
    }
    if (this.silent) {
      for (const q of this.wantedBy[node] as Set<number>) this.scheduleDown(q, node, this.keepalive(q, node, 1));
      for (const q of this.want[node] as Set<number>) this.scheduleDown(q, node, this.keepalive(q, node, 1));
    } else {
      for (const q of this.wantedBy[node] as Set<number>) this.scheduleDown(q, node, this.latency(q, node));
    }
    for (const p of this.want[node] as Set<number>) this.wantedBy[p]?.delete(node);
    this.want[node] = null;
    this.wantedBy[node] = null;
  }

  /** Splits the network: nodes reach only those with the same group. */
  partition(groupOf: (node: number) => number): void {
    for (let i = 0; i < this.nodes.length; i++) this.group[i] = groupOf(i);
    this.partitioned = true;
    for (const a of this.aliveList) {
      for (const p of this.want[a] as Set<number>) {
        if (this.group[p] === this.group[a]) continue;
        this.scheduleDown(a, p, this.silent ? this.keepalive(a, p, 2) : this.config.partitionDetectMs);
      }
    }
  }

  heal(): void {
    this.partitioned = false;
  }

  reachable(a: number, b: number): boolean {
    return !this.partitioned || this.group[a] === this.group[b];
  }

  groupOf(node: number): number {
    return this.group[node];
  }

  /** Publishes a payload at a node; returns the message id. */
  publish(node: number, payload: Uint8Array): string {
    const overlay = this.nodes[node];
    if (!overlay) throw new Error(`node ${node} is not alive`);
    const outs = overlay.handle({ type: 'command', command: { type: 'publish', payload } }, this.now);
    const first = outs[0];
    if (first?.type !== 'emit' || first.event.type !== 'published') throw new Error('publish did not report its id');
    this.apply(node, outs);
    return first.event.id;
  }

  /** Runs every event up to and including time `t`, then sets the clock to `t`. */
  runUntil(t: number): void {
    const q = this.queue;
    for (;;) {
      const ev = q.peek();
      if (!ev || ev.t > t) break;
      q.pop();
      this.now = ev.t;
      this.events++;
      this.dispatch(ev);
    }
    if (t > this.now) this.now = t;
  }

  /** Connectivity of the live overlay over active views. */
  health(): Health {
    const parent = new Int32Array(this.nodes.length).fill(-1);
    const find = (x: number): number => {
      while (parent[x] !== x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
      }
      return x;
    };
    for (const a of this.aliveList) parent[a] = a;
    let isolated = 0;
    let components = this.aliveList.length;
    for (const a of this.aliveList) {
      const view = (this.nodes[a] as SimNode).activeView();
      if (view.length === 0) isolated++;
      for (const b of view) {
        if (parent[b] < 0) continue;
        const ra = find(a),
          rb = find(b);
        if (ra !== rb) {
          parent[ra] = rb;
          components--;
        }
      }
    }
    return { live: this.aliveList.length, isolated, components };
  }

  private dispatch(ev: SimEvent): void {
    const node = this.nodes[ev.node];
    if (ev.kind === MSG || ev.kind === TURN) {
      const guard = this.guards[ev.node];
      const gone = !node || this.inc[ev.node] !== ev.inc || !this.reachable(ev.peer, ev.node);
      if (gone && this.silent) {
        // Lost in silence; a sender without a connection (none pending down) finds out when its dial times out.
        this.scheduleDown(ev.peer, ev.node, KEEPALIVE.dialTimeoutMs);
        return;
      }
      if (gone || (guard && !guard.admits(ev.peer, this.now))) {
        this.scheduleDown(ev.peer, ev.node, this.latency(ev.peer, ev.node));
        return;
      }
      const message = ev.data as OverlayMessage<number>;
      if (this.config.processingMs > 0) {
        // One message at a time, in order of arrival: a message that finds the node busy
        // reserves the next slot and waits for it.
        const cost = this.config.processingMs * (message.type === 'gossip' ? 1 : CONTROL_COST);
        if (ev.kind === MSG && this.busyUntil[ev.node] > this.now) {
          const turn = this.busyUntil[ev.node];
          this.busyUntil[ev.node] = turn + cost;
          return this.queue.push({ ...ev, kind: TURN, t: turn, seq: this.seq++ });
        }
        this.outDelay = cost;
        if (ev.kind === MSG) this.busyUntil[ev.node] = this.now + cost;
      }
      const input: OverlayInput<number> = { type: 'recv', from: ev.peer, message };
      const strangers = guard ? (node as Overlay<number>).broadcast.stats.strangers : 0;
      this.apply(ev.node, node!.handle(input, this.now));
      this.outDelay = 0;
      // As the gossip service: a broadcast message from a non-neighbour is a (small) offence.
      if (guard && (node as Overlay<number>).broadcast.stats.strangers > strangers && guard.offend(ev.peer, 'stranger', this.now)) this.ban(ev.node, ev.peer);
    } else if (ev.kind === TIMER) {
      if (!node || this.inc[ev.node] !== ev.inc) return;
      // What a timer sends waits for the message being handled (the link stays in order).
      this.outDelay = Math.max(0, this.busyUntil[ev.node] - this.now);
      this.apply(ev.node, node.handle({ type: 'timer', timer: ev.data as OverlayTimer<number> }, this.now));
      this.outDelay = 0;
    } else {
      this.pendingDown.delete(ev.node * 4194304 + ev.peer);
      if (!node || this.inc[ev.node] !== ev.inc) return;
      this.dropWant(ev.node, ev.peer);
      this.apply(ev.node, node.handle({ type: 'peer-down', peer: ev.peer }, this.now));
    }
  }

  /** Delay until `holder`'s keepalive gives up on `peer` (see LinkModel.keepaliveDelay). */
  private keepalive(holder: number, peer: number, legs: 1 | 2): number {
    return this.links.keepaliveDelay(holder, peer, this.joinedAt[holder], this.now, legs);
  }

  private scheduleDown(node: number, peer: number, delayMs: number): void {
    if (!this.nodes[node]) return;
    const key = node * 4194304 + peer;
    if (this.pendingDown.has(key)) return;
    this.pendingDown.add(key);
    this.schedule(this.now + delayMs, DOWN, node, peer, null);
  }

  private schedule(t: number, kind: number, node: number, peer: number, data: SimEvent['data']): void {
    this.queue.push({ t, seq: this.seq++, kind, node, peer, inc: this.inc[node], data });
  }

  private dropWant(node: number, peer: number): void {
    this.want[node]?.delete(peer);
    this.wantedBy[peer]?.delete(node);
  }

  private apply(node: number, outs: OverlayOutput<number>[]): void {
    for (let i = 0; i < outs.length; i++) {
      const o = outs[i];
      switch (o.type) {
        case 'send':
          this.send(node, o.to, o.message);
          break;
        case 'set-timer':
          this.schedule(this.now + o.delayMs, TIMER, node, 0, o.timer);
          break;
        case 'connect':
          if (this.guards[node] && !this.guards[node]!.admits(o.peer, this.now)) {
            this.refuse(node, o.peer);
          } else if (this.silent && (!this.nodes[o.peer] || !this.reachable(node, o.peer))) {
            // A dial into silence: no refusal, only the dial timeout.
            this.scheduleDown(node, o.peer, KEEPALIVE.dialTimeoutMs);
          } else if (this.nodes[o.peer]) {
            this.want[node]?.add(o.peer);
            this.wantedBy[o.peer]?.add(node);
          }
          break;
        case 'disconnect':
          this.dropWant(node, o.peer);
          break;
        case 'emit': {
          const ev = o.event;
          if (this.onEmit) this.onEmit(node, ev);
          const banned = this.guards[node]?.review(ev, this.now);
          if (banned !== undefined) this.ban(node, banned);
          if (ev.type === 'deliver') this.tracker.onDeliver(node, ev.id, ev.hop, this.now + this.outDelay);
          else if (ev.type === 'published') this.tracker.onPublished(node, ev.id, this.now, this.nodes.length);
          break;
        }
      }
    }
  }

  /** A guarded node bans `peer`: it hangs up (the peer sees the drop) and the overlay hears `peer-down`. */
  private ban(node: number, peer: number): void {
    this.bans.total++;
    if (this.guards[peer]) this.bans.ofGuarded++;
    this.scheduleDown(peer, node, this.latency(node, peer));
    this.refuse(node, peer);
  }

  /** The driver answers a banned peer with `peer-down`, as for a failed dial. */
  private refuse(node: number, peer: number): void {
    this.dropWant(node, peer);
    const overlay = this.nodes[node];
    if (overlay) this.apply(node, overlay.handle({ type: 'peer-down', peer }, this.now));
  }

  private send(from: number, to: number, message: OverlayMessage<number>): void {
    if (this.onSend) this.onSend(from, to, message);
    switch (message.type) {
      case 'gossip':
        this.counts.gossip++;
        this.tracker.onPayload(message.id);
        break;
      case 'ihave':
        this.counts.ihave++;
        break;
      case 'graft':
        this.counts.graft++;
        break;
      case 'prune':
        this.counts.prune++;
        break;
      default:
        this.counts.membership++;
    }
    const at = this.links.arrival(from, to, this.now + this.outDelay);
    if (at !== null) this.schedule(at, MSG, to, from, message);
  }
}
