/**
 * An `AsyncIterable` fed by pushes: the `rx` of a topic stream. It ends on
 * `close()` or when its AbortSignal fires.
 */
export class Receiver<T> implements AsyncIterable<T> {
  #queue: T[] = [];
  #waiting: ((result: IteratorResult<T>) => void) | undefined;
  #closed = false;
  readonly #onClose: () => void;

  constructor(onClose: () => void = () => {}, signal?: AbortSignal) {
    this.#onClose = onClose;
    signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  get closed(): boolean {
    return this.#closed;
  }

  push(item: T): void {
    if (this.#closed) return;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting({ value: item, done: false });
    } else {
      this.#queue.push(item);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#waiting?.({ value: undefined, done: true });
    this.#waiting = undefined;
    this.#onClose();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.#queue.length > 0) return Promise.resolve({ value: this.#queue.shift()!, done: false });
        if (this.#closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.#waiting = resolve));
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
