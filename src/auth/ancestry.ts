/**
 * Reachability in the auth graph. Operations are numbered in the order they
 * were admitted, which is a topological order (an operation is admitted
 * only after all of its dependencies). Each keeps the set of its strict
 * ancestors as a bitset of its own index's length, so "a happened before b"
 * is one bit test, and the whole table costs n²/2 bits (25 MB at the 20,000
 * operations a state holds at most).
 *
 * `prefix(i)` is how many operations from index 0 on are all ancestors of
 * i: a linear history has prefix(i) = i, and a scan backwards through the
 * history can stop once it passes a prefix.
 */
export class Ancestry {
  readonly #anc: Uint32Array[] = [];
  readonly #prefix: number[] = [];

  get size(): number {
    return this.#anc.length;
  }

  /** Numbers a new operation whose dependencies are `deps` (all already numbered); returns its index. */
  add(deps: readonly number[]): number {
    const index = this.#anc.length;
    const bits = new Uint32Array((index + 31) >>> 5);
    let prefix = 0;
    for (let k = 0; k < deps.length; k++) {
      const d = deps[k];
      const parent = this.#anc[d];
      if (k === 0) bits.set(parent);
      else for (let w = 0; w < parent.length; w++) bits[w] |= parent[w];
      bits[d >>> 5] |= 1 << (d & 31);
      if (this.#prefix[d] > prefix) prefix = this.#prefix[d];
    }
    while (prefix < index) {
      if ((prefix & 31) === 0 && prefix + 32 <= index && bits[prefix >>> 5] === 0xffffffff) prefix += 32;
      else if (bits[prefix >>> 5] & (1 << (prefix & 31))) prefix++;
      else break;
    }
    this.#anc.push(bits);
    this.#prefix.push(prefix);
    return index;
  }

  /** Forgets the newest operation (one that was numbered, then refused). */
  pop(): void {
    this.#anc.pop();
    this.#prefix.pop();
  }

  /** a happened strictly before b. */
  before(a: number, b: number): boolean {
    if (a >= b) return false;
    if (a < this.#prefix[b]) return true;
    return (this.#anc[b][a >>> 5] & (1 << (a & 31))) !== 0;
  }

  concurrent(a: number, b: number): boolean {
    return a !== b && !this.before(a, b) && !this.before(b, a);
  }

  prefix(i: number): number {
    return this.#prefix[i];
  }

  /**
   * For each operation, whether it is concurrent with none: every earlier
   * one is its ancestor and it is an ancestor of every later one (then every
   * later prefix passes it).
   */
  isolated(): boolean[] {
    const n = this.#anc.length;
    const out = new Array<boolean>(n);
    let laterMin = Number.POSITIVE_INFINITY;
    for (let i = n - 1; i >= 0; i--) {
      out[i] = this.#prefix[i] === i && laterMin > i;
      if (this.#prefix[i] < laterMin) laterMin = this.#prefix[i];
    }
    return out;
  }
}
