/**
 * A small seeded random source for the protocol machines. Machines never call
 * `Math.random()`: the driver passes one of these in, so that a simulation
 * with the same seed makes the same choices, byte for byte.
 */

export interface Random {
  /** A uniform float in [0, 1). */
  next(): number;
  /** A uniform 32-bit unsigned integer. */
  nextU32(): number;
  /** A uniform integer in [0, n). `n` must be a positive integer. */
  int(n: number): number;
}

/** SplitMix32: tiny, fast, and good enough for protocol choices and tests. */
export class SplitMix32 implements Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed | 0;
  }

  nextU32(): number {
    this.state = (this.state + 0x9e3779b9) | 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  next(): number {
    return this.nextU32() / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** Mixes several integers into one 32-bit seed (for per-node generators). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p | 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return h >>> 0;
}

export function createRandom(seed: number): Random {
  return new SplitMix32(seed);
}

/** Removes and returns a uniformly chosen element (order not kept). */
export function takeRandom<T>(items: T[], rng: Random): T | undefined {
  if (items.length === 0) return undefined;
  const i = rng.int(items.length);
  const item = items[i];
  items[i] = items[items.length - 1];
  items.pop();
  return item;
}

/** Picks up to `k` distinct elements uniformly, skipping those `skip` rejects. */
export function sample<T>(items: readonly T[], k: number, rng: Random, skip?: (item: T) => boolean): T[] {
  const pool: T[] = [];
  for (const item of items) if (!skip?.(item)) pool.push(item);
  if (pool.length <= k) return pool;
  const out: T[] = [];
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(pool.length - i);
    const t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
    out.push(pool[i]);
  }
  return out;
}
