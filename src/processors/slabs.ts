/**
 * Growable storage for the processors' hot paths. A JS array grown by
 * `push` is reallocated at 1.5 times its size, and past 128 KiB each new
 * copy is fresh memory from the OS: growing one to 100,000 pending
 * operations maps (and page-faults, about 2 µs a page here) several times
 * what it finally holds. `RefSlab` grows a fixed-size chunk at a time and
 * never moves what it holds; `NumberStack` doubles, but keeps its memory
 * when emptied, for the next burst.
 */

const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

/** References by index (from 0, dense), in chunks of 4,096. */
export class RefSlab<T> {
  #chunks: (T | undefined)[][] = [];

  /** Room for indexes below `n`. */
  reserve(n: number): void {
    while (this.#chunks.length * CHUNK < n) this.#chunks.push(new Array<T | undefined>(CHUNK).fill(undefined));
  }

  /** `i` must be a non-negative integer below a reserved size (callers check: this is a hot path). */
  get(i: number): T | undefined {
    return this.#chunks[i >>> CHUNK_BITS][i & CHUNK_MASK];
  }

  /** `i` as for `get`. */
  set(i: number, value: T | undefined): void {
    this.#chunks[i >>> CHUNK_BITS][i & CHUNK_MASK] = value;
  }
}

/** A stack of numbers (integers or not) in one typed array that doubles and is kept when emptied. */
export class NumberStack {
  #items = new Float64Array(64);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(x: number): void {
    if (this.#length === this.#items.length) {
      const items = new Float64Array(this.#items.length * 2);
      items.set(this.#items);
      this.#items = items;
    }
    this.#items[this.#length++] = x;
  }

  /** The top, removed; the stack must not be empty. */
  pop(): number {
    return this.#items[--this.#length];
  }

  /** `i` must be below `length`. */
  at(i: number): number {
    return this.#items[i];
  }

  clear(): void {
    this.#length = 0;
  }

  /** Removes the first `x` (keeping the order of the rest); whether it was there. */
  remove(x: number): boolean {
    const items = this.#items;
    for (let i = 0; i < this.#length; i++) {
      if (items[i] !== x) continue;
      items.copyWithin(i, i + 1, this.#length--);
      return true;
    }
    return false;
  }

  toArray(): number[] {
    return Array.from(this.#items.subarray(0, this.#length));
  }
}
