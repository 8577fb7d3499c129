/**
 * An in-memory network of transports, on a `Runtime`'s clock (the
 * simulator's virtual one): whole nodes talk to each other as over TCP.
 *
 * - Each link has a fixed latency drawn from the seed in [min, max].
 * - Connections are reliable and ordered, as TCP: a lost segment (each
 *   write is one) is retransmitted after a retransmission timeout (RTO,
 *   doubling per loss) and everything behind it on the connection waits
 *   (head-of-line blocking). A lost handshake is retried after 1 s.
 * - Connection-level failures: a crashed (stopped) node's connections reset
 *   at each peer one latency later; a dial to it is refused after a round
 *   trip. Across a partition nothing arrives; a dial times out in silence
 *   after `connectTimeoutMs`, and connections across the split reset after
 *   `partitionDetectMs` (keepalive).
 * - Any node can dial any peer whose id it knows: the network is the
 *   address book (addresses are `/memory/<id>`).
 * Same seed, same clock, same run.
 */
import type { Duplex } from 'node:stream';
import type { Runtime } from '../../core/index.ts';
import { mixSeed, SplitMix32 } from '../membership/random.ts';
import { MemoryStreamEnd, type StreamLink } from './memory-stream.ts';
import { MemoryTransport } from './memory-transport.ts';

export interface MemoryNetworkConfig {
  seed: number;
  latencyMinMs: number;
  latencyMaxMs: number;
  /** Chance that one segment (or handshake) is lost, and must be retransmitted. */
  lossRate: number;
  /** Smallest retransmission timeout (Linux: 200 ms); the RTO is at least 3 latencies. */
  minRtoMs: number;
  connectTimeoutMs: number;
  partitionDetectMs: number;
}

export const DEFAULT_MEMORY_NETWORK: Readonly<MemoryNetworkConfig> = Object.freeze({
  seed: 1,
  latencyMinMs: 10,
  latencyMaxMs: 100,
  lossRate: 0,
  minRtoMs: 200,
  connectTimeoutMs: 5_000,
  partitionDetectMs: 5_000,
});

export interface TrafficCounters {
  /** Bytes written by the node's streams (each retransmitted copy counted again). */
  bytes: number;
  segments: number;
  retransmissions: number;
}

/** A connection between two nodes: its streams and, per direction, when the last segment arrives. */
export class Link implements StreamLink {
  up = true;
  established = false;
  readonly streams = new Set<MemoryStreamEnd>();
  readonly #lastArrival = new Map<string, number>();

  constructor(
    readonly net: MemoryNetwork,
    readonly a: string,
    readonly b: string,
  ) {}

  other(self: string): string {
    return self === this.a ? this.b : this.a;
  }

  transmit(from: string, bytes: number, deliver: () => void): void {
    const to = this.other(from);
    const net = this.net;
    const now = net.runtime.now();
    const latency = net.latency(from, to);
    const delay = latency + net.retransmitDelay(from, latency, bytes);
    const at = Math.max(now + delay, this.#lastArrival.get(from) ?? 0);
    this.#lastArrival.set(from, at);
    net.runtime.setTimer(at - now, () => {
      if (this.up && net.reachable(from, to)) deliver();
    });
  }

  release(stream: MemoryStreamEnd): void {
    this.streams.delete(stream);
    this.streams.delete(stream.other);
  }

  /** Opens a stream pair; returns (opener's end, acceptor's end). */
  pair(opener: string): [MemoryStreamEnd, MemoryStreamEnd] {
    const mine = new MemoryStreamEnd(this, opener);
    const theirs = new MemoryStreamEnd(this, this.other(opener));
    mine.other = theirs;
    theirs.other = mine;
    this.streams.add(mine);
    return [mine, theirs];
  }
}

export class MemoryNetwork {
  readonly config: MemoryNetworkConfig;
  readonly runtime: Runtime;
  readonly #rng: SplitMix32;
  readonly #nodes = new Map<string, MemoryTransport>();
  readonly #links = new Map<string, Link>();
  readonly #dials = new Map<string, Promise<Link>>();
  readonly traffic = new Map<string, TrafficCounters>();
  #group = new Map<string, number>();
  #partitioned = false;

  constructor(runtime: Runtime, config: Partial<MemoryNetworkConfig> = {}) {
    this.runtime = runtime;
    this.config = { ...DEFAULT_MEMORY_NETWORK, ...config };
    this.#rng = new SplitMix32(mixSeed(this.config.seed, 0x6e7));
  }

  /** A new node's transport on this network. */
  transport(self: string): MemoryTransport {
    const transport = new MemoryTransport(this, self);
    this.#nodes.set(self, transport);
    return transport;
  }

  isAlive(peer: string): boolean {
    return this.#nodes.get(peer)?.running === true;
  }

  /** Fixed latency of the link between a and b (symmetric, from the seed). */
  latency(a: string, b: string): number {
    const [lo, hi] = a < b ? [a, b] : [b, a];
    const u = mixSeed(this.config.seed, hashId(lo), hashId(hi)) / 4294967296;
    return this.config.latencyMinMs + u * (this.config.latencyMaxMs - this.config.latencyMinMs);
  }

  /** Time lost to retransmissions of one segment (0 if the first copy arrives); counts the traffic. */
  retransmitDelay(from: string, latency: number, bytes: number): number {
    const counters = this.#counters(from);
    let rto = Math.max(this.config.minRtoMs, 3 * latency);
    let extra = 0;
    counters.segments++;
    counters.bytes += bytes;
    while (this.config.lossRate > 0 && this.#rng.next() < this.config.lossRate) {
      extra += rto;
      rto *= 2;
      counters.retransmissions++;
      counters.bytes += bytes;
    }
    return extra;
  }

  reachable(a: string, b: string): boolean {
    return !this.#partitioned || (this.#group.get(a) ?? 0) === (this.#group.get(b) ?? 0);
  }

  /** Splits the network: nodes reach only those of their own group. */
  partition(groupOf: (peer: string) => number): void {
    this.#partitioned = true;
    this.#group = new Map([...this.#nodes.keys()].map((p) => [p, groupOf(p)]));
    for (const link of [...this.#links.values()]) {
      if (this.reachable(link.a, link.b)) continue;
      this.runtime.setTimer(this.config.partitionDetectMs, () => {
        if (!this.reachable(link.a, link.b)) this.reset(link, 0);
      });
    }
  }

  heal(): void {
    this.#partitioned = false;
  }

  link(a: string, b: string): Link | undefined {
    const link = this.#links.get(pairKey(a, b));
    return link?.established ? link : undefined;
  }

  /** Connects `from` to `to` (one connection per pair, shared by both directions). */
  connect(from: string, to: string): Promise<Link> {
    const key = pairKey(from, to);
    const existing = this.#links.get(key);
    if (existing?.established) return Promise.resolve(existing);
    let dial = this.#dials.get(key);
    if (dial) return dial;
    dial = new Promise<Link>((resolve, reject) => {
      const rtt = 2 * this.latency(from, to);
      if (!this.reachable(from, to)) {
        return void this.runtime.setTimer(this.config.connectTimeoutMs, () => reject(new Error('dial timed out')));
      }
      let delay = rtt;
      for (let rto = 1000; this.config.lossRate > 0 && this.#rng.next() < this.config.lossRate && delay < this.config.connectTimeoutMs; rto *= 2) delay += rto;
      this.runtime.setTimer(Math.min(delay, this.config.connectTimeoutMs), () => {
        const target = this.#nodes.get(to);
        const source = this.#nodes.get(from);
        if (!source?.running) return reject(new Error('stopped'));
        if (!target?.running) return reject(new Error('connection refused'));
        if (!this.reachable(from, to) || delay >= this.config.connectTimeoutMs) return reject(new Error('dial timed out'));
        if (source.refuses(to) || target.refuses(from)) return reject(new Error('connection refused by the gater'));
        const link = new Link(this, from, to);
        link.established = true;
        this.#links.set(key, link);
        source.connected(to, link);
        target.connected(from, link);
        resolve(link);
      });
    }).finally(() => this.#dials.delete(key));
    this.#dials.set(key, dial);
    return dial;
  }

  /** Opens a stream of `protocol` from `from` over its link to `to`; the handler runs at `to` one latency later. */
  async openStream(from: string, to: string, protocol: string): Promise<Duplex> {
    const link = await this.connect(from, to);
    const latency = this.latency(from, to);
    const [mine, theirs] = link.pair(from);
    return new Promise<Duplex>((resolve, reject) => {
      this.runtime.setTimer(latency, () => {
        const target = this.#nodes.get(to);
        if (!link.up || !target?.running || !this.reachable(from, to)) return;
        const refusal = target.accept(protocol, from, theirs);
        if (refusal) theirs.reset(new Error(refusal));
      });
      // Protocol negotiation takes a round trip; a refusal resets the stream.
      this.runtime.setTimer(2 * latency, () => {
        if (!link.up || mine.destroyed) reject(new Error('stream refused'));
        else if (theirs.destroyed && !theirs.readableEnded) reject(new Error('stream refused'));
        else resolve(mine);
      });
    });
  }

  /**
   * Resets a link: at once at `now` for `first` (if given), one latency later
   * at the other end (or at once for both when `first` is 0 and no side hung up).
   */
  reset(link: Link, delayOther: number, first?: string): void {
    if (!link.up) return;
    link.up = false;
    this.#links.delete(pairKey(link.a, link.b));
    const streams = [...link.streams];
    const resetSide = (peer: string) => {
      for (const opener of streams) {
        const end = opener.owner === peer ? opener : opener.other;
        end.reset(new Error('connection reset'));
      }
      this.#nodes.get(peer)?.disconnected(link.other(peer), link);
    };
    if (first) {
      resetSide(first);
      const other = link.other(first);
      this.runtime.setTimer(delayOther, () => resetSide(other));
    } else {
      resetSide(link.a);
      resetSide(link.b);
    }
  }

  /** Links of a node, for crashes and hang-ups. */
  linksOf(peer: string): Link[] {
    return [...this.#links.values()].filter((l) => l.a === peer || l.b === peer);
  }

  #counters(peer: string): TrafficCounters {
    let c = this.traffic.get(peer);
    if (!c) this.traffic.set(peer, (c = { bytes: 0, segments: 0, retransmissions: 0 }));
    return c;
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

function hashId(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return h >>> 0;
}
