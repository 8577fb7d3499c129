/**
 * A virtual clock for whole nodes: every timer of every node and of the
 * memory network is an event on one heap, ordered by (time, sequence), and
 * each node gets a `Runtime` on it with its own seeded random source. Time
 * only moves when `runUntil` takes the next event; between events the
 * process's microtasks and ticks are drained (the promise chains of streams,
 * sync sessions and receivers), so a run is the same for the same seed.
 * Nothing in a simulated node may use the process's own timers.
 */
import type { Runtime, TimerHandle } from '../src/core/index.ts';
import { mixSeed, SplitMix32 } from '../src/net/membership/random.ts';
import { EventHeap } from './heap.ts';

interface ClockEvent {
  t: number;
  seq: number;
  fn: (() => void) | null;
}

/** 2027-01-01T00:00:00Z, in microseconds: virtual wall clocks start there. */
const EPOCH_MICROS = 1_798_761_600_000_000;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class VirtualClock {
  now = 0;
  events = 0;
  #seq = 0;
  readonly #heap = new EventHeap<ClockEvent>();

  /** A runtime on this clock whose randomness comes from `seed`. */
  runtime(seed: number): Runtime {
    const rng = new SplitMix32(mixSeed(seed, 0xc10c));
    return {
      now: () => this.now,
      wallMicros: () => EPOCH_MICROS + Math.round(this.now * 1000),
      setTimer: (ms, fn) => this.#schedule(ms, fn),
      clearTimer: (handle) => {
        const ev = handle?.timer as ClockEvent | undefined;
        if (ev) ev.fn = null;
      },
      random: () => rng.next(),
      randomBytes: (n) => {
        const out = new Uint8Array(n);
        for (let i = 0; i < n; i += 4) {
          const word = rng.nextU32();
          for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (word >>> (8 * j)) & 0xff;
        }
        return out;
      },
    };
  }

  /** Runs every event up to and including time `t`, draining microtasks after each; then sets the clock to `t`. */
  async runUntil(t: number): Promise<void> {
    await turn();
    for (;;) {
      const ev = this.#heap.peek();
      if (!ev || ev.t > t) break;
      this.#heap.pop();
      if (!ev.fn) continue;
      this.now = ev.t;
      this.events++;
      const fn = ev.fn;
      ev.fn = null;
      fn();
      await turn();
    }
    if (t > this.now) this.now = t;
  }

  #schedule(ms: number, fn: () => void): TimerHandle {
    const ev: ClockEvent = { t: this.now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#heap.push(ev);
    return { timer: ev };
  }
}
