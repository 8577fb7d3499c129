/**
 * An `AsyncIterable` fed by pushes: the `rx` of a topic stream. It ends on
 * `close()` or when its AbortSignal fires.
 *
 * Bounded: live pushes beyond `maxItems` or `maxBytes` not yet read either
 * drop the oldest (`'drop-oldest'`, for lossy streams) or cut the receiver
 * off (`'fail'`): it takes nothing more, the app reads what it holds and then
 * gets a `PENDING_OVERFLOW` error naming the cursor to resubscribe from (the
 * store holds everything; `from` replays it). Items a replay preloaded do
 * not count: they come from the local store, at the app's request.
 */
import { WalkawayError } from '../core/index.ts';

export interface ReceiverLimits<T> {
  maxItems: number;
  maxBytes: number;
  sizeOf: (item: T) => number;
  onFull: 'drop-oldest' | 'fail';
}

export class Receiver<T> implements AsyncIterable<T> {
  #queue: T[] = [];
  #head = 0;
  #waiting: ((result: IteratorResult<T>) => void) | undefined;
  #closed = false;
  #overflowed = false;
  /** Queued items that a replay preloaded (always at the front). */
  #preloaded = 0;
  #bytes = 0;
  /** Items dropped (drop-oldest) or refused (fail) for lack of room. */
  dropped = 0;
  readonly #onClose: () => void;
  readonly #limits: ReceiverLimits<T> | undefined;

  constructor(onClose: () => void = () => {}, signal?: AbortSignal, limits?: ReceiverLimits<T>) {
    this.#onClose = onClose;
    this.#limits = limits;
    signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Items waiting to be read. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Bytes of the live items waiting (by `sizeOf`). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Queues or hands over an item; false if the receiver is closed or cut off and took nothing. */
  push(item: T): boolean {
    if (this.#closed || this.#overflowed) {
      if (this.#overflowed) this.dropped++;
      return false;
    }
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting({ value: item, done: false });
      return true;
    }
    const limits = this.#limits;
    if (!limits) {
      this.#queue.push(item);
      return true;
    }
    const size = limits.sizeOf(item);
    const full = () => this.queued - this.#preloaded >= limits.maxItems || this.#bytes + size > limits.maxBytes;
    if (full() && limits.onFull === 'fail') {
      this.#overflowed = true;
      this.dropped++;
      this.#onClose(); // nothing more is pushed to it
      return false;
    }
    // Drop-oldest never drops a preloaded item (only lossy streams use it, and they are not replayed).
    while (full() && this.#preloaded === 0 && this.queued > 0) {
      this.#bytes -= limits.sizeOf(this.#shift());
      this.dropped++;
    }
    if (full()) {
      this.dropped++;
      return false;
    }
    this.#queue.push(item);
    this.#bytes += size;
    return true;
  }

  /** Queues an item outside the live limits (a replay from the local store). */
  preload(item: T): void {
    if (this.#closed) return;
    this.#queue.push(item);
    this.#preloaded++;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#preloaded = 0;
    this.#waiting?.({ value: undefined, done: true });
    this.#waiting = undefined;
    if (!this.#overflowed) this.#onClose();
  }

  #shift(): T {
    const item = this.#queue[this.#head];
    this.#queue[this.#head++] = undefined as T;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  #next(): T {
    const item = this.#shift();
    if (this.#preloaded > 0) this.#preloaded--;
    else if (this.#limits) this.#bytes -= this.#limits.sizeOf(item);
    return item;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.queued > 0) return Promise.resolve({ value: this.#next(), done: false });
        if (this.#closed) return Promise.resolve({ value: undefined, done: true });
        if (this.#overflowed) {
          return Promise.reject(
            new WalkawayError('PENDING_OVERFLOW', 'the app read too slowly: resubscribe with `from` the last cursor read', { dropped: this.dropped }),
          );
        }
        return new Promise((resolve) => (this.#waiting = resolve));
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
