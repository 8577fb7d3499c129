/**
 * Receive budgets of the multicast channel: token buckets of datagrams and
 * bytes per sender address and overall, so a flood on the LAN costs at most
 * a bounded amount of decryption and decoding per second. Senders are
 * tracked up to a count; idle ones expire; senders beyond the count share one
 * bucket (UDP source addresses are cheap to forge). Time is passed in.
 */

export interface ReceiveBudgetConfig {
  perSenderDatagramsPerSec: number;
  perSenderBytesPerSec: number;
  totalDatagramsPerSec: number;
  totalBytesPerSec: number;
  /** Burst: a bucket holds this many seconds of its rate. */
  burstSec: number;
  /** Most senders tracked one by one; the rest share a bucket. */
  maxSenders: number;
  /** A sender not heard for this long is forgotten. */
  senderIdleMs: number;
}

export const DEFAULT_RECEIVE_BUDGET: ReceiveBudgetConfig = {
  perSenderDatagramsPerSec: 500,
  perSenderBytesPerSec: 2_000_000,
  totalDatagramsPerSec: 2_000,
  totalBytesPerSec: 8_000_000,
  burstSec: 2,
  maxSenders: 256,
  senderIdleMs: 30_000,
};

class Bucket {
  #datagrams: number;
  #bytes: number;
  last: number;

  constructor(
    readonly datagramsPerSec: number,
    readonly bytesPerSec: number,
    readonly burstSec: number,
    now: number,
  ) {
    this.#datagrams = datagramsPerSec * burstSec;
    this.#bytes = bytesPerSec * burstSec;
    this.last = now;
  }

  refill(now: number): void {
    const sec = Math.max(0, now - this.last) / 1000;
    this.last = Math.max(this.last, now);
    this.#datagrams = Math.min(this.datagramsPerSec * this.burstSec, this.#datagrams + sec * this.datagramsPerSec);
    this.#bytes = Math.min(this.bytesPerSec * this.burstSec, this.#bytes + sec * this.bytesPerSec);
  }

  has(bytes: number): boolean {
    return this.#datagrams >= 1 && this.#bytes >= bytes;
  }

  take(bytes: number): void {
    this.#datagrams -= 1;
    this.#bytes -= bytes;
  }
}

export class ReceiveBudget {
  readonly config: ReceiveBudgetConfig;
  readonly #senders = new Map<string, Bucket>();
  readonly #overflow: Bucket;
  readonly #total: Bucket;

  constructor(config: Partial<ReceiveBudgetConfig>, now: number) {
    this.config = { ...DEFAULT_RECEIVE_BUDGET, ...config };
    const c = this.config;
    this.#overflow = new Bucket(c.perSenderDatagramsPerSec, c.perSenderBytesPerSec, c.burstSec, now);
    this.#total = new Bucket(c.totalDatagramsPerSec, c.totalBytesPerSec, c.burstSec, now);
  }

  get senders(): number {
    return this.#senders.size;
  }

  /** True (and charged) when `sender` may spend one datagram of `bytes` now. */
  admit(sender: string, bytes: number, now: number): boolean {
    const bucket = this.#bucketOf(sender, now);
    bucket.refill(now);
    this.#total.refill(now);
    if (!bucket.has(bytes) || !this.#total.has(bytes)) return false;
    bucket.take(bytes);
    this.#total.take(bytes);
    return true;
  }

  /** Forgets senders idle longer than the configured time. */
  expire(now: number): void {
    for (const [sender, bucket] of this.#senders) if (now - bucket.last > this.config.senderIdleMs) this.#senders.delete(sender);
  }

  #bucketOf(sender: string, now: number): Bucket {
    let bucket = this.#senders.get(sender);
    if (bucket) return bucket;
    if (this.#senders.size >= this.config.maxSenders) this.expire(now);
    if (this.#senders.size >= this.config.maxSenders) return this.#overflow;
    const c = this.config;
    bucket = new Bucket(c.perSenderDatagramsPerSec, c.perSenderBytesPerSec, c.burstSec, now);
    this.#senders.set(sender, bucket);
    return bucket;
  }
}
