/**
 * What the simulated network does to a message between two nodes: a fixed
 * latency per link, a per-message jitter on top, loss, and, in `keepalive`
 * detection, how long a peer takes to notice that a node went silent.
 *
 * Loss acts as on the node's TCP streams (`retransmit`, as the whole-node
 * simulator's MemoryNetwork): a lost segment is sent again after an RTO (at
 * least 200 ms and three link latencies, doubling per loss of the same
 * segment) and everything behind it on the link waits (head-of-line
 * blocking); nothing is lost, it is late. `drop` loses the message outright,
 * as a datagram: a stress case the node never meets on a live connection.
 * Links stay first-in first-out whenever jitter or loss is on.
 */
import { mixSeed, SplitMix32 } from '../src/net/membership/random.ts';
import { KEEPALIVE } from '../src/net/transport/keepalive.ts';

/** Directed link key (node ids stay under 2^22). */
const KEY = 4194304;
/** Past this many remembered links, those with nothing in flight are forgotten. */
const FIFO_SWEEP = 65_536;
/** Least retransmission timeout (Linux's TCP_RTO_MIN). */
const RTO_MIN_MS = 200;

export type LossMode = 'retransmit' | 'drop';

export class LinkModel {
  private readonly seed: number;
  private readonly min: number;
  private readonly span: number;
  private readonly jitterMs: number;
  private readonly lossRate: number;
  private readonly lossMode: LossMode;
  private readonly fifo: boolean;
  /** Jitter and loss draws. */
  private readonly rng: SplitMix32;
  /** Latest arrival scheduled on each directed link with jitter. */
  private readonly lastArrival = new Map<number, number>();
  private sweepAt = FIFO_SWEEP;

  constructor(o: { seed: number; latencyMinMs: number; latencyMaxMs: number; jitterMs: number; lossRate: number; lossMode: LossMode }) {
    const seed = o.seed;
    this.seed = seed;
    this.min = o.latencyMinMs;
    this.span = o.latencyMaxMs - o.latencyMinMs;
    this.jitterMs = o.jitterMs;
    this.lossRate = o.lossRate;
    this.lossMode = o.lossMode;
    this.fifo = o.jitterMs > 0 || (o.lossRate > 0 && o.lossMode === 'retransmit');
    this.rng = new SplitMix32(mixSeed(seed, 0x717e));
  }

  /** Fixed latency of the link between a and b (symmetric). */
  latency(a: number, b: number): number {
    const lo = Math.min(a, b),
      hi = Math.max(a, b);
    return this.min + (mixSeed(this.seed, lo, hi) / 4294967296) * this.span;
  }

  /**
   * When a message sent now from `from` arrives at `to` (latency, jitter,
   * retransmissions, never before the one sent before it), or null if it is
   * dropped.
   */
  arrival(from: number, to: number, now: number): number | null {
    const latency = this.latency(from, to);
    let t = now + latency;
    if (this.lossRate > 0) {
      if (this.lossMode === 'drop') {
        if (this.rng.next() < this.lossRate) return null;
      } else {
        for (let rto = Math.max(RTO_MIN_MS, 3 * latency); this.rng.next() < this.lossRate; rto *= 2) t += rto;
      }
    }
    if (!this.fifo) return t;
    if (this.jitterMs > 0) t += this.rng.next() * this.jitterMs;
    const key = from * KEY + to;
    const at = Math.max(t, this.lastArrival.get(key) ?? 0);
    if (this.lastArrival.size >= this.sweepAt) {
      for (const [k, last] of this.lastArrival) if (last <= now) this.lastArrival.delete(k);
      this.sweepAt = Math.max(FIFO_SWEEP, 2 * this.lastArrival.size);
    }
    this.lastArrival.set(key, at);
    return at;
  }

  /**
   * How long from now until `holder` aborts its connection to `silent`,
   * which stopped answering now: the first keepalive ping that gets no
   * answer, plus the ping timeout. Pings go out every interval from the
   * holder's start (`startedAt`). `legs` is how much of the round trip must
   * be done by now for the last ping to come back: 1 for a crash (a ping
   * that reached the node before it died is answered), 2 for a partition.
   */
  keepaliveDelay(holder: number, silent: number, startedAt: number, now: number, legs: 1 | 2): number {
    const { pingIntervalMs: every, pingTimeoutMs: timeout } = KEEPALIVE;
    const lastPing = now - ((now - startedAt) % every);
    const answered = lastPing > startedAt && lastPing + legs * this.latency(holder, silent) <= now;
    const failing = answered || lastPing <= startedAt ? lastPing + every : lastPing;
    return failing + timeout - now;
  }
}
