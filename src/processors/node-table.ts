/**
 * The causal orderer's memory, laid out for speed: every hash it meets (an
 * operation or a dependency) is interned once to a small integer id, through
 * an open-addressing table over the hashes, held as eight 32-bit words (no
 * strings).
 *
 * Everything the orderer knows about an id sits in one 64-byte record (the
 * hash, state and missing-dependency count, where its held operation is,
 * first waiter and first waiter edge, Lamport timestamp, localSeq), because
 * after a shuffled delivery the ids are visited in an order unrelated to the
 * one they were created in: one record is one cache line (or two adjacent
 * ones) where separate arrays per field would be one miss per field. For the
 * same reason each slot of the hash table packs the id with 8 bits of its
 * hash's tag into 4 bytes, filled to at most three quarters: a probe that
 * does not match almost never reads a record, and the table (1 MiB for
 * 100,000 operations: it doubles past 98,304) stays small enough to be
 * mostly cached when a shuffled delivery looks hashes up in no particular
 * order. What costs after a shuffle is the number of distinct pages touched
 * at random (TLB misses), so nothing is placed by id that need not be. The
 * "who waits for this hash" edges are (target, next) pairs in one array with
 * a free list. Per operation that
 * is a few probes and record writes, and nothing that survives for the
 * garbage collector to copy except the operation itself while it waits.
 */
import { WalkawayError } from '../core/index.ts';
import type { StoredOperation } from '../store/index.ts';
import { hashKey, keyToHash } from './keys.ts';
import { NumberStack, RefSlab } from './slabs.ts';

export const UNKNOWN = 0;
export const PENDING = 1;
export const RELEASED = 2;
export const DROPPED = 3;

/**
 * Record layout, in 32-bit words: hash in words 0-7, then the fields. A
 * typed array that glibc's malloc maps on its own (128 KiB and more, unless
 * its threshold has risen) starts 16 bytes into a page, so a record's first
 * 48 bytes share one cache line and its last 16 bytes sit in the next: what
 * a lookup, a wait and a wake touch (hash, Lamport timestamp, state, first
 * waiter) is in the first 48. (A speed matter only: any start is correct.)
 */
const WORDS = 16;
/** In 64-bit words: the Lamport timestamp (words 8-9). */
const LAMPORT = 4;
/** State in the low 2 bits, missing-dependency count above. */
const STATE = 10;
/** The first waiter, inline (id + 1, 0 for none): most hashes have one or two, and an edge is one more miss. */
const FIRST_WAITER = 11;
/** Place + 1 in `#held` of the operation held for the id, 0 for none. */
const HELD = 12;
const FIRST_EDGE = 13;
/** In 64-bit words: localSeq (words 14-15). */
const SEQ = 7;

/** Most ids a table can hold: an id + 1 must fit in 23 bits of a slot. */
export const MAX_IDS = (1 << 23) - 2;

export class NodeTable<P = unknown> {
  readonly #max: number;
  #cap = 1024;
  #i32 = new Int32Array(WORDS * this.#cap);
  #f64 = new Float64Array(this.#i32.buffer);
  /** Open addressing, linear probing: (id + 1) << 8 | top 8 bits of the hash's slotOf, or 0 for empty. */
  #slots = new Int32Array(4096);
  #count = 0;
  /** `#count` when `lookup` last missed: its slot holds until the next intern. */
  #missedAt = -1;
  /**
   * Held operations and what `prepare` made of them, side by side (at 2h - 2
   * and 2h - 1 for the stored h = place + 1; freed places reused): JS
   * objects cannot live in the records. Places are given out as operations
   * arrive, not by id (an id is given when a hash is first met, often long
   * before its operation arrives), so that holding writes front to back
   * instead of all over.
   */
  readonly #held = new RefSlab<StoredOperation | P>();
  /** Places given out in `#held` so far. */
  #heldPlaces = 0;
  /** Free places in `#held`, + 1. */
  readonly #freeHeld = new NumberStack();
  /** Edges: pairs (waiter id, next edge or -1). */
  #edges = new Int32Array(2 * 4096);
  #edgeCount = 0;
  #freeEdge = -1;
  released = 0;

  get size(): number {
    return this.#count;
  }

  /** At most `max` ids (MAX_IDS at most). */
  constructor(max = MAX_IDS) {
    this.#max = Math.min(max, MAX_IDS);
  }

  /** Whether `n` more ids fit. */
  fits(n: number): boolean {
    return this.#count + n <= this.#max;
  }

  state(id: number): number {
    return this.#i32[id * WORDS + STATE] & 3;
  }

  setState(id: number, state: number): void {
    const at = id * WORDS + STATE;
    this.#i32[at] = (this.#i32[at] & ~3) | state;
  }

  lamport(id: number): number {
    return this.#f64[id * 8 + LAMPORT];
  }

  setLamport(id: number, lamport: number): void {
    this.#f64[id * 8 + LAMPORT] = lamport;
  }

  /** localSeq of a pending operation, so that releasing it reads no operation object. */
  seq(id: number): number {
    return this.#f64[id * 8 + SEQ];
  }

  setSeq(id: number, seq: number): void {
    this.#f64[id * 8 + SEQ] = seq;
  }

  missing(id: number): number {
    return this.#i32[id * WORDS + STATE] >>> 2;
  }

  setMissing(id: number, missing: number): void {
    const at = id * WORDS + STATE;
    this.#i32[at] = (missing << 2) | (this.#i32[at] & 3);
  }

  /** The operation held for `id` (pending), if any. */
  op(id: number): StoredOperation | undefined {
    const h = this.#i32[id * WORDS + HELD];
    return h === 0 ? undefined : (this.#held.get(2 * h - 2) as StoredOperation);
  }

  /** What `prepare` made of the operation held for `id`. */
  preparedOf(id: number): P | undefined {
    const h = this.#i32[id * WORDS + HELD];
    return h === 0 ? undefined : (this.#held.get(2 * h - 1) as P | undefined);
  }

  /** Holds `op` (and its prepared value) for `id` while it waits. */
  hold(id: number, op: StoredOperation, prepared: P | undefined): void {
    const at = id * WORDS + HELD;
    let h = this.#i32[at];
    if (h === 0) {
      if (this.#freeHeld.length > 0) {
        h = this.#freeHeld.pop();
      } else {
        h = ++this.#heldPlaces;
        this.#held.reserve(2 * h);
      }
      this.#i32[at] = h;
    }
    this.#held.set(2 * h - 2, op);
    this.#held.set(2 * h - 1, prepared);
  }

  /** Lets go of what is held for `id`. */
  drop(id: number): void {
    const at = id * WORDS + HELD;
    const h = this.#i32[at];
    if (h === 0) return;
    this.#i32[at] = 0;
    this.#held.set(2 * h - 2, undefined);
    this.#held.set(2 * h - 1, undefined);
    this.#freeHeld.push(h);
  }

  /** Whether some operation waits for `id`. */
  hasWaiters(id: number): boolean {
    return this.#i32[id * WORDS + FIRST_WAITER] !== 0 || this.#i32[id * WORDS + FIRST_EDGE] >= 0;
  }

  /**
   * Loads the slots and records that later lookups of the hashes with tags
   * `tags[0..n)` (`slotOf`) read, and does nothing else: with the tags
   * computed beforehand the loads follow one another closely, so their
   * cache misses overlap instead of queueing.
   */
  touch(tags: readonly number[], n: number): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let touched = 0;
    for (let i = 0; i < n; i++) {
      const tag = tags[i];
      const top = tag >>> 24;
      // Along the probe, the first slot whose 8 bits match (almost always the hash's own record).
      // It ends: the table is never more than three quarters full.
      for (let j = tag & mask; ; j = (j + 1) & mask) {
        const v = slots[j];
        if (v === 0) break;
        if ((v & 0xff) !== top) continue;
        touched |= this.#i32[((v >> 8) - 1) * WORDS + STATE];
        break;
      }
    }
    return touched;
  }

  /** Loads what releasing `ids` reads: their held operations and their waiters' records. */
  touchWave(ids: readonly number[]): number {
    const i32 = this.#i32;
    const edges = this.#edges;
    const held = this.#held;
    let touched = 0;
    for (let i = 0; i < ids.length; i++) {
      const at = ids[i] * WORDS;
      const h = i32[at + HELD];
      if (h !== 0 && held.get(2 * h - 2) === undefined) touched |= 1;
      const w = i32[at + FIRST_WAITER];
      if (w !== 0) touched |= i32[(w - 1) * WORDS + STATE];
      for (let e = i32[at + FIRST_EDGE]; e >= 0; e = edges[2 * e + 1]) touched |= i32[edges[2 * e] * WORDS + STATE];
    }
    return touched;
  }

  /** The id of a 32-byte hash (whose `slotOf` the caller may pass in), or -1. */
  find(bytes: Uint8Array, tag = slotOf(bytes)): number {
    const found = this.#probe(bytes, tag);
    return found >= 0 ? found : -1;
  }

  /**
   * `find`, but a miss is returned as `~slot` of the empty slot where the
   * hash would go: passed to `intern` before anything else is interned, it
   * spares that probe (a stale one only costs the probe).
   */
  lookup(bytes: Uint8Array, tag: number): number {
    const found = this.#probe(bytes, tag);
    if (found < 0) this.#missedAt = this.#count;
    return found;
  }

  /**
   * The id of a 32-byte hash (whose `slotOf` the caller may pass in),
   * interned on first sight; the caller checks `fits` first. `missed`: what
   * `lookup` of this hash returned, if it missed.
   */
  intern(bytes: Uint8Array, tag = slotOf(bytes), missed = 0): number {
    const found = missed < 0 && this.#missedAt === this.#count ? missed : this.#probe(bytes, tag);
    if (found >= 0) return found;
    const i = ~found;
    const slots = this.#slots;
    const top = tag >>> 24;
    if (this.#count >= MAX_IDS) throw new WalkawayError('INVALID_ARGUMENT', `node table holds at most ${MAX_IDS} hashes`);
    const id = this.#count++;
    if (id === this.#cap) this.#grow();
    const i32 = this.#i32;
    const at = id * WORDS;
    for (let k = 0; k < 8; k++) i32[at + k] = wordAt(bytes, 4 * k);
    i32[at + FIRST_EDGE] = -1;
    slots[i] = ((id + 1) << 8) | top;
    if (this.#count * 4 > slots.length * 3) this.#rehash();
    return id;
  }

  /** The hash of `id` as a key (`hashKey`). */
  keyOf(id: number): string {
    const bytes = new Uint8Array(32);
    for (let j = 0; j < 32; j++) bytes[j] = this.#i32[id * WORDS + (j >>> 2)] >>> (8 * (j & 3));
    return hashKey(bytes);
  }

  /** Lamport timestamp if `key` is released here, else undefined. */
  get(key: string): number | undefined {
    const id = this.find(keyToHash(key).bytes);
    return id >= 0 && this.state(id) === RELEASED ? this.lamport(id) : undefined;
  }

  /** Records `key` as released with `lamport` (e.g. learnt from the store), and its localSeq if known. */
  set(key: string, lamport: number, seq = 0): void {
    const id = this.intern(keyToHash(key).bytes);
    if (this.state(id) !== RELEASED) this.released++;
    this.setState(id, RELEASED);
    this.setLamport(id, lamport);
    this.setSeq(id, seq);
  }

  /** `waiter` waits for `dep`. */
  addEdge(dep: number, waiter: number): void {
    if (this.#i32[dep * WORDS + FIRST_WAITER] === 0) {
      this.#i32[dep * WORDS + FIRST_WAITER] = waiter + 1;
      return;
    }
    let e = this.#freeEdge;
    if (e >= 0) {
      this.#freeEdge = this.#edges[2 * e + 1];
    } else {
      e = this.#edgeCount++;
      if (2 * e === this.#edges.length) this.#growEdges();
    }
    const edges = this.#edges;
    const first = dep * WORDS + FIRST_EDGE;
    edges[2 * e] = waiter;
    edges[2 * e + 1] = this.#i32[first];
    this.#i32[first] = e;
  }

  /** Detaches the inline waiter of `dep` and returns it (or -1); the rest are on its edges (`takeWaiters`). */
  takeFirstWaiter(dep: number): number {
    const at = dep * WORDS + FIRST_WAITER;
    const w = this.#i32[at] - 1;
    this.#i32[at] = 0;
    return w;
  }

  /** Detaches the waiter list of `dep` and returns its first edge (or -1); walk it with `edgeTarget` and `freeEdge`. */
  takeWaiters(dep: number): number {
    const first = dep * WORDS + FIRST_EDGE;
    const e = this.#i32[first];
    this.#i32[first] = -1;
    return e;
  }

  /** Waiter of edge `e`. */
  edgeTarget(e: number): number {
    return this.#edges[2 * e];
  }

  /** Frees edge `e` and returns the next edge of its list (or -1). */
  freeEdge(e: number): number {
    const next = this.#edges[2 * e + 1];
    this.#edges[2 * e + 1] = this.#freeEdge;
    this.#freeEdge = e;
    return next;
  }

  /** Removes `waiter` from the list of `dep`. */
  removeEdge(dep: number, waiter: number): void {
    if (this.#i32[dep * WORDS + FIRST_WAITER] === waiter + 1) {
      this.#i32[dep * WORDS + FIRST_WAITER] = 0;
      return;
    }
    const edges = this.#edges;
    const first = dep * WORDS + FIRST_EDGE;
    let prev = -1;
    for (let e = this.#i32[first]; e >= 0; prev = e, e = edges[2 * e + 1]) {
      if (edges[2 * e] !== waiter) continue;
      if (prev < 0) this.#i32[first] = edges[2 * e + 1];
      else edges[2 * prev + 1] = edges[2 * e + 1];
      edges[2 * e + 1] = this.#freeEdge;
      this.#freeEdge = e;
      return;
    }
  }

  /** The id of the hash with tag `tag`, or `~slot` of the empty slot where it would go. */
  #probe(bytes: Uint8Array, tag: number): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    const top = tag >>> 24;
    for (let i = tag & mask; ; i = (i + 1) & mask) {
      const v = slots[i];
      if (v === 0) return ~i;
      if ((v & 0xff) === top && this.#equals((v >> 8) - 1, bytes)) return (v >> 8) - 1;
    }
  }

  #equals(id: number, bytes: Uint8Array): boolean {
    const i32 = this.#i32;
    const at = id * WORDS;
    for (let k = 0; k < 8; k++) if (i32[at + k] !== wordAt(bytes, 4 * k)) return false;
    return true;
  }

  #rehash(): void {
    // In id order, so that the records are read front to back.
    const slots = new Int32Array(this.#slots.length * 2);
    const mask = slots.length - 1;
    for (let id = 0; id < this.#count; id++) {
      const tag = slotOfWords(this.#i32, id * WORDS);
      let i = tag & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = ((id + 1) << 8) | (tag >>> 24);
    }
    this.#slots = slots;
  }

  #grow(): void {
    this.#cap *= 2;
    const i32 = new Int32Array(WORDS * this.#cap);
    i32.set(this.#i32);
    this.#i32 = i32;
    this.#f64 = new Float64Array(i32.buffer);
  }

  #growEdges(): void {
    const edges = new Int32Array(this.#edges.length * 2);
    edges.set(this.#edges);
    this.#edges = edges;
  }
}

/**
 * A per-process random seed for `slotOf`. The operation hashes are BLAKE3
 * output, but the dependencies an operation lists are whatever its author
 * wrote: values crafted to share a slot would make every probe walk one long
 * run. Unseeded, a few shared bytes would do; seeded over all 32 bytes, an
 * author cannot aim.
 */
const SEED = globalThis.crypto.getRandomValues(new Uint32Array(1))[0];

/** Slot (and tag) of a hash: all eight words, mixed with the seed. */
export function slotOf(b: Uint8Array): number {
  let h = SEED;
  for (let j = 0; j < 32; j += 4) h = mix(h, wordAt(b, j));
  return finish(h);
}

/** `slotOf` of a hash stored as words (a record). */
function slotOfWords(words: Int32Array, at: number): number {
  let h = SEED;
  for (let k = at; k < at + 8; k++) h = mix(h, words[k]);
  return finish(h);
}

function mix(h: number, word: number): number {
  h = Math.imul(h ^ word, 0x9e3779b1);
  return h ^ (h >>> 15);
}

/**
 * Bytes `j` to `j + 3` as a little-endian 32-bit word, by arithmetic: a
 * record holds its hash as eight such words, so comparing one is eight
 * compares, and means the same on any platform's byte order.
 */
function wordAt(b: Uint8Array, j: number): number {
  return b[j] | (b[j + 1] << 8) | (b[j + 2] << 16) | (b[j + 3] << 24);
}

function finish(h: number): number {
  // Final avalanche (MurmurHash3's fmix32): every input bit reaches the low bits that pick the slot.
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
