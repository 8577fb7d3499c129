/**
 * Token buckets for the membership machine's defences: `burst` tokens, one
 * more every `refillMs` (time passed in). Keyed buckets hold at most
 * `maxKeys` entries; the least recently used goes first, and a bucket that
 * has refilled is dropped (a missing key is a full bucket), so a flood of
 * distinct senders costs bounded memory.
 */
interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly burst: number,
    private readonly refillMs: number,
    now = 0,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  /** Is a token there (without taking it)? */
  has(now: number): boolean {
    this.refill(now);
    return this.tokens >= 1;
  }

  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(now: number): void {
    if (this.refillMs <= 0) {
      this.tokens = this.burst;
    } else if (now > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.at) / this.refillMs);
    }
    this.at = Math.max(this.at, now);
  }
}

export class KeyedBudget<K> {
  private readonly buckets = new Map<K, Bucket>();

  constructor(
    private readonly burst: number,
    private readonly refillMs: number,
    private readonly maxKeys: number,
  ) {}

  get size(): number {
    return this.buckets.size;
  }

  take(key: K, now: number): boolean {
    if (this.refillMs <= 0) return true;
    this.expire(now);
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key);
      b.tokens = Math.min(this.burst, b.tokens + Math.max(0, now - b.at) / this.refillMs);
      b.at = Math.max(b.at, now);
    } else {
      b = { tokens: this.burst, at: now };
    }
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as K);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Drops the least recently used buckets that have refilled by now. */
  private expire(now: number): void {
    const full = this.burst * this.refillMs;
    for (const [key, b] of this.buckets) {
      if (now - b.at < full) return;
      this.buckets.delete(key);
    }
  }
}
