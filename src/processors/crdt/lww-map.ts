/**
 * Last-write-wins map. Each key keeps the write with the greatest stamp:
 * Lamport timestamp first (so a write that causally follows another always
 * wins: its Lamport timestamp is larger), then the author's wall clock, then
 * the author's key, then the operation hash. Deletes are writes too
 * (tombstones), so a late, older write cannot bring a key back. The result is
 * the same for any order, any number of repeats.
 *
 * Applying a write has two halves. `prepare` reads the write out of the
 * operation (decodes the body, finds the key's entry) and needs no order, so
 * the causal orderer can run it when the operation arrives, while its bytes
 * are still in the CPU caches: `new CausalOrderer({ store, prepare: (op) =>
 * map.prepare(op), discard: (op, p) => map.discard(op, p) })`. `process`
 * applies a released write and then touches only the prepared write and the
 * key's entry. An operation released without a write this map prepared is
 * prepared on release.
 *
 * Nothing is allocated per write that outlives it: a prepared write is a
 * handle into one slab (operation, entry, value; `slabs.ts`), entries are
 * updated in place, and the rest of a stamp (clock, author, hash) is read
 * from the winning operation only when a Lamport tie needs it or someone
 * asks.
 *
 * Operation bodies: CBOR `[key, value]` to set, `[key]` to delete (see
 * `encodeLwwWrite`, `lww-body.ts`), or any `decode` given in the config.
 */
import { toHex, WalkawayError, type Operation } from '../../core/index.ts';
import { compareStamps, stampOf } from '../keys.ts';
import { NumberStack, RefSlab } from '../slabs.ts';
import type { OrderedOperation, Processor, ReportSink, Stamp } from '../types.ts';
import { decodeLwwBody, type LwwBody } from './lww-body.ts';

export { encodeLwwWrite } from './lww-body.ts';

export interface LwwWrite<V> {
  key: string;
  /** Absent for a delete. */
  value?: V;
  deleted?: boolean;
}

export interface LwwEntry<V> {
  value: V | undefined;
  deleted: boolean;
  stamp: Stamp;
}

export interface LwwChange<V> {
  key: string;
  value: V | undefined;
  deleted: boolean;
  stamp: Stamp;
}

export interface LwwMapConfig<V> {
  /** Reads the write out of an operation; throw a WalkawayError (or return undefined) to skip it. */
  decode?: (op: Operation) => LwwWrite<V> | undefined;
  onReport?: ReportSink;
}

export function decodeLwwWrite(op: Operation): LwwWrite<unknown> {
  const body = readBody(op);
  return body.deleted ? { key: body.key, deleted: true } : { key: body.key, value: body.value };
}

/** The default decoder, as `LwwBody` (no second object). */
function readBody(op: Operation): LwwBody {
  if (!op.body) throw new WalkawayError('MALFORMED', 'LWW write has no body (deleted or empty)', { hash: op.hash.toHex() });
  try {
    return decodeLwwBody(op.body);
  } catch (err) {
    throw new WalkawayError('MALFORMED', (err as Error).message, { hash: op.hash.toHex() });
  }
}

/** A key's entry, updated in place. */
interface Slot<V> {
  key: string;
  value: V | undefined;
  deleted: boolean;
  /** False until a write for the key is applied (`prepare` makes entries). */
  written: boolean;
  lamport: number;
  /** The winning write's operation: the rest of its stamp is read from it when needed. */
  op: Operation | undefined;
  /** The winning stamp, once read from `op` or given (`write`, `merge`). */
  stamp: Stamp | undefined;
  /** The last `processAll` batch that changed it. */
  batch: number;
}

/** A prepared write's value when it deletes the key. */
const DELETED = Symbol('deleted');
/** References per prepared write: operation, entry (undefined: the operation carries no write), value. */
const REFS = 3;
/** Below this many inputs `processAll` is `process` on each. */
const MIN_BATCH = 64;

export class LwwMap<V = unknown> implements Processor<OrderedOperation, LwwChange<V>> {
  readonly name = 'lww-map';
  readonly #slots = new Map<string, Slot<V>>();
  readonly #decode: ((op: Operation) => LwwWrite<V> | undefined) | undefined;
  readonly #onReport: ReportSink | undefined;
  /** Prepared writes not applied yet, REFS apart; a handle is an index (below `#capacity`). */
  readonly #prepared = new RefSlab<unknown>();
  /** Handles given out so far (free ones included). */
  #capacity = 0;
  readonly #free = new NumberStack();
  /** Scratch of `processAll`, by handle: the batch that claimed it, its Lamport timestamp and operation. */
  #batchOf = new Int32Array(0);
  #lamportOf = new Float64Array(0);
  readonly #opOf = new RefSlab<OrderedOperation['operation']>();
  #batch = 0;

  constructor(config: LwwMapConfig<V> = {}) {
    this.#decode = config.decode;
    this.#onReport = config.onReport;
  }

  /** Applies a write with its stamp; returns whether it became the current value. */
  write(key: string, value: V | undefined, deleted: boolean, stamp: Stamp): boolean {
    return this.#apply(this.#slot(key), value, deleted, stamp.lamport, undefined, stamp);
  }

  /**
   * The write read out of `op`, as a handle that `process` (or `discard`)
   * takes back. Reports a body it cannot decode, once, here.
   */
  prepare(op: Operation): number {
    const write = this.#read(op);
    let h: number;
    if (this.#free.length > 0) {
      h = this.#free.pop();
    } else {
      h = this.#capacity++;
      this.#prepared.reserve(this.#capacity * REFS);
    }
    const at = h * REFS;
    const refs = this.#prepared;
    refs.set(at, op);
    refs.set(at + 1, write === undefined ? undefined : this.#slot(write.key));
    refs.set(at + 2, write === undefined ? undefined : write.deleted ? DELETED : write.value);
    return h;
  }

  /** Lets go of a prepared write that will never be applied (its operation was dropped). */
  discard(op: Operation, prepared: unknown): void {
    if (this.#own(op, prepared)) this.#release(prepared as number);
  }

  process(input: OrderedOperation): LwwChange<V>[] {
    const slot = this.#applyOp(input);
    return slot === undefined ? [] : [changeOf(slot)];
  }

  /**
   * Applies a batch of released writes (what one `CausalOrderer.process`
   * returned, say) and reports each key it changed once, with its value
   * after the batch. The result is the state `process` on each would reach:
   * a write wins by its stamp, whatever the order.
   *
   * Why a batch: after a shuffled delivery a cascade releases writes that
   * were prepared in another order, so applying them in release order reads
   * the prepared writes all over memory. Here they are applied in handle
   * order instead: one pass notes each write's Lamport timestamp by handle
   * (writes into a small array), then a second reads the prepared writes
   * front to back.
   */
  processAll(inputs: readonly OrderedOperation[]): LwwChange<V>[] {
    if (inputs.length < MIN_BATCH) {
      const changes: LwwChange<V>[] = [];
      for (let i = 0; i < inputs.length; i++) {
        const slot = this.#applyOp(inputs[i]);
        if (slot !== undefined) changes.push(changeOf(slot));
      }
      return changes;
    }
    const batch = ++this.#batch;
    const changed: Slot<V>[] = [];
    const handles = this.#claim(inputs, batch, changed);
    const capacity = this.#capacity;
    if (handles.length * 16 >= capacity) {
      // Most handles are in this batch: one pass over the scratch finds them in order, no sort needed.
      for (let h = 0; h < capacity; h++) if (this.#batchOf[h] === batch) this.#applyClaimed(h, batch, changed);
    } else {
      handles.sort();
      for (let i = 0; i < handles.length; i++) this.#applyClaimed(handles[i], batch, changed);
    }
    return changed.map(changeOf);
  }

  get(key: string): V | undefined {
    return this.#slots.get(key)?.value;
  }

  has(key: string): boolean {
    const s = this.#slots.get(key);
    return s?.written === true && !s.deleted;
  }

  entry(key: string): LwwEntry<V> | undefined {
    const s = this.#slots.get(key);
    return s?.written ? { value: s.value, deleted: s.deleted, stamp: stampOfSlot(s) } : undefined;
  }

  /** Live keys and values, in key order. */
  entries(): [string, V | undefined][] {
    return this.#written()
      .filter((s) => !s.deleted)
      .map((s) => [s.key, s.value]);
  }

  get size(): number {
    let n = 0;
    for (const s of this.#slots.values()) if (s.written && !s.deleted) n++;
    return n;
  }

  /** Everything, tombstones included, in a canonical form: equal states give equal snapshots. */
  snapshot(): { key: string; deleted: boolean; value: unknown; hash: string }[] {
    return this.#written().map((s) => ({ key: s.key, deleted: s.deleted, value: s.value, hash: toHex(stampOfSlot(s).hash) }));
  }

  /** State-based merge: the same as applying every write the other map has seen. */
  merge(other: LwwMap<V>): void {
    for (const s of other.#slots.values()) if (s.written) this.write(s.key, s.value, s.deleted, stampOfSlot(s));
  }

  /** Applies one released write; returns its key's entry if it became the current value. */
  #applyOp(input: OrderedOperation): Slot<V> | undefined {
    const op = input.operation;
    if (this.#own(op, input.prepared)) return this.#applyHandle(input.prepared as number, op, input.lamport);
    // Not prepared by this map (another map's, or none): read the write now.
    const write = this.#read(op);
    if (write === undefined) return undefined;
    const slot = this.#slot(write.key);
    return this.#apply(slot, write.deleted ? undefined : (write.value as V), write.deleted, input.lamport, op, undefined) ? slot : undefined;
  }

  /** Applies the write prepared as handle `h` (held for `op`) and gives the handle back. */
  #applyHandle(h: number, op: Operation, lamport: number): Slot<V> | undefined {
    const at = h * REFS;
    const slot = this.#prepared.get(at + 1) as Slot<V> | undefined;
    const value = this.#prepared.get(at + 2);
    this.#release(h);
    if (slot === undefined) return undefined;
    const deleted = value === DELETED;
    return this.#apply(slot, deleted ? undefined : (value as V), deleted, lamport, op, undefined) ? slot : undefined;
  }

  /**
   * First pass of `processAll`: notes the Lamport timestamp and operation of
   * each write by its handle and returns the handles. A write without a
   * handle of this map, or whose handle another input of the batch claimed,
   * is applied at once.
   */
  #claim(inputs: readonly OrderedOperation[], batch: number, changed: Slot<V>[]): Int32Array {
    const capacity = this.#capacity;
    if (this.#batchOf.length < capacity) this.#growScratch(capacity);
    const handles = new Int32Array(inputs.length);
    let n = 0;
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i];
      const h = input.prepared;
      if (typeof h !== 'number' || !(h >= 0 && h < capacity && (h | 0) === h) || this.#batchOf[h] === batch) {
        this.#note(this.#applyOp(input), batch, changed);
        continue;
      }
      this.#batchOf[h] = batch;
      this.#lamportOf[h] = input.lamport;
      this.#opOf.set(h, input.operation);
      handles[n++] = h;
    }
    return handles.subarray(0, n);
  }

  /** Second pass of `processAll`: applies the write claimed as handle `h`. */
  #applyClaimed(h: number, batch: number, changed: Slot<V>[]): void {
    const op = this.#opOf.get(h)!;
    this.#opOf.set(h, undefined);
    const lamport = this.#lamportOf[h];
    // `#claim` checked the handle; if this map no longer holds it for that operation, read the write now.
    const held = this.#prepared.get(h * REFS) === op;
    const slot = held ? this.#applyHandle(h, op, lamport) : this.#applyOp({ operation: op, lamport });
    this.#note(slot, batch, changed);
  }

  #note(slot: Slot<V> | undefined, batch: number, changed: Slot<V>[]): void {
    if (slot === undefined || slot.batch === batch) return;
    slot.batch = batch;
    changed.push(slot);
  }

  #growScratch(capacity: number): void {
    const size = Math.max(capacity, 2 * this.#batchOf.length, 1024);
    const batchOf = new Int32Array(size);
    batchOf.set(this.#batchOf);
    this.#batchOf = batchOf;
    this.#lamportOf = new Float64Array(size);
    this.#opOf.reserve(size);
  }

  /** Whether `prepared` is a handle this map gave out for `op` and still holds. */
  #own(op: Operation, prepared: unknown): boolean {
    if (typeof prepared !== 'number' || (prepared | 0) !== prepared || prepared < 0 || prepared >= this.#capacity) return false;
    return this.#prepared.get(prepared * REFS) === op;
  }

  #release(h: number): void {
    const at = h * REFS;
    const refs = this.#prepared;
    refs.set(at, undefined);
    refs.set(at + 1, undefined);
    refs.set(at + 2, undefined);
    this.#free.push(h);
  }

  /** The write in `op`, or undefined (none, or reported as malformed). */
  #read(op: Operation): LwwBody | undefined {
    try {
      if (!this.#decode) return readBody(op);
      const write = this.#decode(op);
      if (!write) return undefined;
      const deleted = write.deleted === true;
      return { key: write.key, value: deleted ? undefined : write.value, deleted };
    } catch (err) {
      const error = err instanceof WalkawayError ? err : new WalkawayError('MALFORMED', String(err));
      this.#onReport?.({ type: 'rejected', processor: this.name, hash: op.hash, error });
      return undefined;
    }
  }

  #slot(key: string): Slot<V> {
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = { key, value: undefined, deleted: false, written: false, lamport: 0, op: undefined, stamp: undefined, batch: 0 };
      this.#slots.set(key, slot);
    }
    return slot;
  }

  /** A write with Lamport timestamp `lamport` and the rest of its stamp in `stamp` or else in `op`. */
  #apply(slot: Slot<V>, value: V | undefined, deleted: boolean, lamport: number, op: Operation | undefined, stamp: Stamp | undefined): boolean {
    if (slot.written) {
      if (lamport < slot.lamport) return false;
      // A tie on Lamport (concurrent writes, or the same write again): compare whole stamps.
      if (lamport === slot.lamport && compareStamps(stamp ?? stampOf(op!, lamport), stampOfSlot(slot)) <= 0) return false;
    }
    slot.value = deleted ? undefined : value;
    slot.deleted = deleted;
    slot.written = true;
    slot.lamport = lamport;
    slot.op = op;
    slot.stamp = stamp;
    return true;
  }

  /** Keys with an applied write, in key order. */
  #written(): Slot<V>[] {
    return [...this.#slots.values()].filter((s) => s.written).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}

function changeOf<V>(slot: Slot<V>): LwwChange<V> {
  return new Change(slot.key, slot.value, slot.deleted, slot.lamport, slot.op, slot.stamp);
}

function stampOfSlot(s: Slot<unknown>): Stamp {
  return (s.stamp ??= stampOf(s.op!, s.lamport));
}

/** A change whose stamp is read from its operation only when asked for. */
class Change<V> implements LwwChange<V> {
  readonly #lamport: number;
  readonly #operation: Operation | undefined;
  #stamp: Stamp | undefined;

  constructor(
    readonly key: string,
    readonly value: V | undefined,
    readonly deleted: boolean,
    lamport: number,
    operation: Operation | undefined,
    stamp: Stamp | undefined,
  ) {
    this.#lamport = lamport;
    this.#operation = operation;
    this.#stamp = stamp;
  }

  get stamp(): Stamp {
    return (this.#stamp ??= stampOf(this.#operation!, this.#lamport));
  }
}
