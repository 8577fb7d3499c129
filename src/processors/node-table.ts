/**
 * The causal orderer's memory, laid out for speed: every hash it meets (an
 * operation or a dependency) is interned once to a small integer id; state,
 * Lamport timestamps and missing-dependency counts live in typed arrays; the
 * "who waits for this hash" index is a linked list of edges in two typed
 * arrays with a free list. Per operation that is a few Map lookups and array
 * writes, and nothing that survives for the garbage collector to copy except
 * the operation itself while it waits.
 */
import type { StoredOperation } from '../store/index.ts';

export const UNKNOWN = 0;
export const PENDING = 1;
export const RELEASED = 2;
export const DROPPED = 3;

export class NodeTable {
  readonly ids = new Map<string, number>();
  keys: string[] = [];
  state = new Uint8Array(1024);
  lamport = new Float64Array(1024);
  missing = new Int32Array(1024);
  firstEdge = new Int32Array(1024).fill(-1);
  ops: (StoredOperation | undefined)[] = [];
  edgeTarget = new Int32Array(4096);
  edgeNext = new Int32Array(4096);
  #edges = 0;
  #freeEdge = -1;
  released = 0;

  get size(): number {
    return this.keys.length;
  }

  /** The id of `key`, interned on first sight. */
  intern(key: string): number {
    let id = this.ids.get(key);
    if (id !== undefined) return id;
    id = this.keys.length;
    if (id === this.state.length) this.#grow();
    this.ids.set(key, id);
    this.keys.push(key);
    this.ops.push(undefined);
    return id;
  }

  /** Lamport timestamp if `key` is released here, else undefined. */
  get(key: string): number | undefined {
    const id = this.ids.get(key);
    return id !== undefined && this.state[id] === RELEASED ? this.lamport[id] : undefined;
  }

  /** Records `key` as released with `lamport` (e.g. learnt from the store). */
  set(key: string, lamport: number): void {
    const id = this.intern(key);
    if (this.state[id] !== RELEASED) this.released++;
    this.state[id] = RELEASED;
    this.lamport[id] = lamport;
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
    const firstEdge = new Int32Array(n).fill(-1);
    firstEdge.set(this.firstEdge);
    this.state = state;
    this.lamport = lamport;
    this.missing = missing;
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
