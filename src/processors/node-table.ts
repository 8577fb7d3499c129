/**
 * The causal orderer's memory, laid out for speed: every hash it meets (an
 * operation or a dependency) is interned once to a small integer id, through
 * an open-addressing table over the raw hash bytes (no strings); state,
 * Lamport timestamps and missing-dependency counts live in typed arrays; the
 * "who waits for this hash" index is a linked list of edges in two typed
 * arrays with a free list. Per operation that is a few Map lookups and array
 * writes, and nothing that survives for the garbage collector to copy except
 * the operation itself while it waits.
 */
import type { StoredOperation } from '../store/index.ts';
import { hashKey, keyToHash } from './keys.ts';

export const UNKNOWN = 0;
export const PENDING = 1;
export const RELEASED = 2;
export const DROPPED = 3;

export class NodeTable {
  /** Hash bytes of id i at [32i, 32i + 32). */
  #pool = new Uint8Array(32 * 1024);
  /** Open addressing, linear probing: id + 1, or 0 for empty. */
  #slots = new Int32Array(4096);
  #count = 0;
  state = new Uint8Array(1024);
  lamport = new Float64Array(1024);
  missing = new Int32Array(1024);
  /** localSeq of a pending operation, so releasing it reads no operation object. */
  seq = new Float64Array(1024);
  firstEdge = new Int32Array(1024).fill(-1);
  ops: (StoredOperation | undefined)[] = [];
  edgeTarget = new Int32Array(4096);
  edgeNext = new Int32Array(4096);
  #edges = 0;
  #freeEdge = -1;
  released = 0;

  get size(): number {
    return this.#count;
  }

  /** The id of a 32-byte hash, or -1. */
  find(bytes: Uint8Array): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    for (let i = slotOf(bytes) & mask; ; i = (i + 1) & mask) {
      const v = slots[i];
      if (v === 0) return -1;
      if (this.#equals(v - 1, bytes)) return v - 1;
    }
  }

  /** The id of a 32-byte hash, interned on first sight. */
  intern(bytes: Uint8Array): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let i = slotOf(bytes) & mask;
    for (; ; i = (i + 1) & mask) {
      const v = slots[i];
      if (v === 0) break;
      if (this.#equals(v - 1, bytes)) return v - 1;
    }
    const id = this.#count++;
    if (id === this.state.length) this.#grow();
    this.#pool.set(bytes, id * 32);
    slots[i] = id + 1;
    this.ops.push(undefined);
    if (this.#count * 2 > slots.length) this.#rehash();
    return id;
  }

  /** The hash of `id` as a key (`hashKey`). */
  keyOf(id: number): string {
    return hashKey(this.#pool.subarray(id * 32, id * 32 + 32));
  }

  /** Lamport timestamp if `key` is released here, else undefined. */
  get(key: string): number | undefined {
    const id = this.find(keyToHash(key).bytes);
    return id >= 0 && this.state[id] === RELEASED ? this.lamport[id] : undefined;
  }

  /** Records `key` as released with `lamport` (e.g. learnt from the store). */
  set(key: string, lamport: number): void {
    const id = this.intern(keyToHash(key).bytes);
    if (this.state[id] !== RELEASED) this.released++;
    this.state[id] = RELEASED;
    this.lamport[id] = lamport;
  }

  #equals(id: number, bytes: Uint8Array): boolean {
    const pool = this.#pool;
    const at = id * 32;
    for (let j = 0; j < 32; j++) if (pool[at + j] !== bytes[j]) return false;
    return true;
  }

  #rehash(): void {
    const slots = new Int32Array(this.#slots.length * 2);
    const mask = slots.length - 1;
    for (let id = 0; id < this.#count; id++) {
      let i = slotOf(this.#pool.subarray(id * 32, id * 32 + 32)) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = id + 1;
    }
    this.#slots = slots;
  }

  /** `waiter` waits for `dep`. */
  addEdge(dep: number, waiter: number): void {
    let e = this.#freeEdge;
    if (e >= 0) {
      this.#freeEdge = this.edgeNext[e];
    } else {
      e = this.#edges++;
      if (e === this.edgeTarget.length) this.#growEdges();
    }
    this.edgeTarget[e] = waiter;
    this.edgeNext[e] = this.firstEdge[dep];
    this.firstEdge[dep] = e;
  }

  /** Returns edge `e` to the free list. */
  freeEdge(e: number): void {
    this.edgeNext[e] = this.#freeEdge;
    this.#freeEdge = e;
  }

  /** Waiters of `dep`, without taking them. */
  waitersOf(dep: number): number[] {
    const out: number[] = [];
    for (let e = this.firstEdge[dep]; e >= 0; e = this.edgeNext[e]) out.push(this.edgeTarget[e]);
    return out;
  }

  /** Removes `waiter` from the list of `dep`. */
  removeEdge(dep: number, waiter: number): void {
    let prev = -1;
    for (let e = this.firstEdge[dep]; e >= 0; prev = e, e = this.edgeNext[e]) {
      if (this.edgeTarget[e] !== waiter) continue;
      if (prev < 0) this.firstEdge[dep] = this.edgeNext[e];
      else this.edgeNext[prev] = this.edgeNext[e];
      this.edgeNext[e] = this.#freeEdge;
      this.#freeEdge = e;
      return;
    }
  }

  #grow(): void {
    const n = this.state.length * 2;
    const state = new Uint8Array(n);
    state.set(this.state);
    const lamport = new Float64Array(n);
    lamport.set(this.lamport);
    const missing = new Int32Array(n);
    missing.set(this.missing);
    const seq = new Float64Array(n);
    seq.set(this.seq);
    const firstEdge = new Int32Array(n).fill(-1);
    firstEdge.set(this.firstEdge);
    const pool = new Uint8Array(32 * n);
    pool.set(this.#pool);
    this.#pool = pool;
    this.state = state;
    this.lamport = lamport;
    this.missing = missing;
    this.seq = seq;
    this.firstEdge = firstEdge;
  }

  #growEdges(): void {
    const n = this.edgeTarget.length * 2;
    const target = new Int32Array(n);
    target.set(this.edgeTarget);
    const next = new Int32Array(n);
    next.set(this.edgeNext);
    this.edgeTarget = target;
    this.edgeNext = next;
  }
}

/**
 * Slot of a hash: its bytes are BLAKE3 output, so three mixed words spread
 * well; a forged run of equal prefixes would need a 96-bit collision.
 */
function slotOf(b: Uint8Array): number {
  const w0 = b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
  const w1 = b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24);
  const w2 = b[8] | (b[9] << 8) | (b[10] << 16) | (b[11] << 24);
  const h = Math.imul(w0 ^ Math.imul(w1, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(w2, 0xc2b2ae35);
  return (h ^ (h >>> 15)) >>> 0;
}
