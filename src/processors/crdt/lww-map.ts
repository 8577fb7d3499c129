/**
 * Last-write-wins map. Each key keeps the write with the greatest stamp:
 * Lamport timestamp first (so a write that causally follows another always
 * wins: its Lamport timestamp is larger), then the author's wall clock, then
 * the author's key, then the operation hash. Deletes are writes too
 * (tombstones), so a late, older write cannot bring a key back. The result is
 * the same for any order, any number of repeats.
 *
 * Applying a write has two halves. `prepare` reads the write out of the
 * operation (body decoding, stamp fields) and needs no order, so the causal
 * orderer can run it when the operation arrives, while its bytes are still in
 * the CPU caches: `new CausalOrderer({ store, prepare: (op) => map.prepare(op) })`.
 * `process` applies a released write and then touches only the prepared
 * write and the key's entry. An operation released without a write this map
 * prepared is prepared on release.
 *
 * Operation bodies: CBOR `[key, value]` to set, `[key]` to delete (see
 * `encodeLwwWrite`), or any `decode` given in the config.
 */
import { decode as cborDecode, encode as cborEncode } from 'cborg';
import { timestampOf, toHex, WalkawayError, type Operation } from '../../core/index.ts';
import { compareStamps } from '../keys.ts';
import type { OrderedOperation, Processor, ReportSink, Stamp } from '../types.ts';

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

/** A write read out of its operation, ready to apply once the operation is released. */
export interface PreparedLwwWrite<V> {
  /** Undefined when the operation carries no write (skipped or rejected when prepared). */
  key: string | undefined;
  value: V | undefined;
  deleted: boolean;
  /** The stamp without its Lamport timestamp (known only at release). */
  timestamp: number;
  author: Uint8Array;
  hash: Uint8Array;
  /** The map that prepared it: another map prepares again (its `decode` may differ). */
  by: object;
}

export interface LwwMapConfig<V> {
  /** Reads the write out of an operation; throw a WalkawayError (or return undefined) to skip it. */
  decode?: (op: Operation) => LwwWrite<V> | undefined;
  onReport?: ReportSink;
}

export function encodeLwwWrite(key: string, value?: unknown): Uint8Array {
  return cborEncode(value === undefined ? [key] : [key, value]);
}

export function decodeLwwWrite(op: Operation): LwwWrite<unknown> {
  if (!op.body) throw new WalkawayError('MALFORMED', 'LWW write has no body (deleted or empty)', { hash: op.hash.toHex() });
  let value: unknown;
  try {
    value = cborDecode(op.body);
  } catch (err) {
    throw new WalkawayError('MALFORMED', `LWW write is not CBOR: ${(err as Error).message}`, { hash: op.hash.toHex() });
  }
  if (!Array.isArray(value) || typeof value[0] !== 'string' || value.length < 1 || value.length > 2) {
    throw new WalkawayError('MALFORMED', 'LWW write must be [key] or [key, value]', { hash: op.hash.toHex() });
  }
  return value.length === 1 ? { key: value[0], deleted: true } : { key: value[0], value: value[1] };
}

/** A key's entry; `stamp` is undefined until a write for it is applied (a prepared write made it). */
interface Slot<V> {
  key: string;
  value: V | undefined;
  deleted: boolean;
  stamp: Stamp | undefined;
}

export class LwwMap<V = unknown> implements Processor<OrderedOperation, LwwChange<V>> {
  readonly name = 'lww-map';
  readonly #slots = new Map<string, Slot<V>>();
  readonly #decode: (op: Operation) => LwwWrite<V> | undefined;
  readonly #onReport: ReportSink | undefined;
  /** What `prepare` returns for an operation that carries no write. */
  readonly #noWrite: PreparedLwwWrite<V> = Object.freeze({
    key: undefined,
    value: undefined,
    deleted: false,
    timestamp: 0,
    author: new Uint8Array(0),
    hash: new Uint8Array(0),
    by: this,
  });

  constructor(config: LwwMapConfig<V> = {}) {
    this.#decode = config.decode ?? (decodeLwwWrite as (op: Operation) => LwwWrite<V>);
    this.#onReport = config.onReport;
  }

  /** Applies a write with its stamp; returns whether it became the current value. */
  write(key: string, value: V | undefined, deleted: boolean, stamp: Stamp): boolean {
    return this.#apply(this.#slot(key), value, deleted, stamp);
  }

  /**
   * The write read out of `op`, with the stamp fields it will need (see the
   * module comment). Reports a body it cannot decode, once, here.
   */
  prepare(op: Operation): PreparedLwwWrite<V> {
    let write: LwwWrite<V> | undefined;
    try {
      write = this.#decode(op);
    } catch (err) {
      const error = err instanceof WalkawayError ? err : new WalkawayError('MALFORMED', String(err));
      this.#onReport?.({ type: 'rejected', processor: this.name, hash: op.hash, error });
      return this.#noWrite;
    }
    if (!write) return this.#noWrite;
    const deleted = write.deleted === true;
    return {
      // The slot's own key string: one per key, so applying compares pointers.
      key: this.#slot(write.key).key,
      value: deleted ? undefined : write.value,
      deleted,
      timestamp: timestampOf(op.header) ?? 0,
      author: op.header.publicKey.bytes,
      hash: op.hash.bytes,
      by: this,
    };
  }

  process(input: OrderedOperation): LwwChange<V>[] {
    const p = input.prepared as PreparedLwwWrite<V> | undefined;
    const write = typeof p === 'object' && p !== null && p.by === this ? p : this.prepare(input.operation);
    if (write.key === undefined) return [];
    const slot = this.#slot(write.key);
    const stamp: Stamp = { lamport: input.lamport, timestamp: write.timestamp, author: write.author, hash: write.hash };
    if (!this.#apply(slot, write.value, write.deleted, stamp)) return [];
    return [{ key: slot.key, value: slot.value, deleted: write.deleted, stamp }];
  }

  get(key: string): V | undefined {
    return this.#slots.get(key)?.value;
  }

  has(key: string): boolean {
    const s = this.#slots.get(key);
    return s !== undefined && s.stamp !== undefined && !s.deleted;
  }

  entry(key: string): LwwEntry<V> | undefined {
    const s = this.#slots.get(key);
    return s?.stamp ? { value: s.value, deleted: s.deleted, stamp: s.stamp } : undefined;
  }

  /** Live keys and values, in key order. */
  entries(): [string, V | undefined][] {
    return this.#written()
      .filter((s) => !s.deleted)
      .map((s) => [s.key, s.value]);
  }

  get size(): number {
    let n = 0;
    for (const s of this.#slots.values()) if (s.stamp && !s.deleted) n++;
    return n;
  }

  /** Everything, tombstones included, in a canonical form: equal states give equal snapshots. */
  snapshot(): { key: string; deleted: boolean; value: unknown; hash: string }[] {
    return this.#written().map((s) => ({ key: s.key, deleted: s.deleted, value: s.value, hash: toHex(s.stamp!.hash) }));
  }

  /** State-based merge: the same as applying every write the other map has seen. */
  merge(other: LwwMap<V>): void {
    for (const s of other.#slots.values()) if (s.stamp) this.write(s.key, s.value, s.deleted, s.stamp);
  }

  #slot(key: string): Slot<V> {
    let slot = this.#slots.get(key);
    if (!slot) this.#slots.set(key, (slot = { key, value: undefined, deleted: false, stamp: undefined }));
    return slot;
  }

  #apply(slot: Slot<V>, value: V | undefined, deleted: boolean, stamp: Stamp): boolean {
    if (slot.stamp && compareStamps(stamp, slot.stamp) <= 0) return false;
    slot.value = deleted ? undefined : value;
    slot.deleted = deleted;
    slot.stamp = stamp;
    return true;
  }

  /** Keys with an applied write, in key order. */
  #written(): Slot<V>[] {
    return [...this.#slots.values()].filter((s) => s.stamp !== undefined).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}
