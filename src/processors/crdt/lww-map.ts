/**
 * Last-write-wins map. Each key keeps the write with the greatest stamp:
 * Lamport timestamp first (so a write that causally follows another always
 * wins: its Lamport timestamp is larger), then the author's wall clock, then
 * the author's key, then the operation hash. Deletes are writes too
 * (tombstones), so a late, older write cannot bring a key back. The result is
 * the same for any order, any number of repeats.
 *
 * Operation bodies: CBOR `[key, value]` to set, `[key]` to delete (see
 * `encodeLwwWrite`), or any `decode` given in the config.
 */
import { decode as cborDecode, encode as cborEncode } from 'cborg';
import { toHex, WalkawayError, type Operation } from '../../core/index.ts';
import { compareStamps, stampOf } from '../keys.ts';
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

export class LwwMap<V = unknown> implements Processor<OrderedOperation, LwwChange<V>> {
  readonly name = 'lww-map';
  readonly #entries = new Map<string, LwwEntry<V>>();
  readonly #decode: (op: Operation) => LwwWrite<V> | undefined;
  readonly #onReport: ReportSink | undefined;

  constructor(config: LwwMapConfig<V> = {}) {
    this.#decode = config.decode ?? (decodeLwwWrite as (op: Operation) => LwwWrite<V>);
    this.#onReport = config.onReport;
  }

  /** Applies a write with its stamp; returns whether it became the current value. */
  write(key: string, value: V | undefined, deleted: boolean, stamp: Stamp): boolean {
    const current = this.#entries.get(key);
    if (current && compareStamps(stamp, current.stamp) <= 0) return false;
    this.#entries.set(key, { value: deleted ? undefined : value, deleted, stamp });
    return true;
  }

  process(input: OrderedOperation): LwwChange<V>[] {
    const op = input.operation;
    let write: LwwWrite<V> | undefined;
    try {
      write = this.#decode(op);
    } catch (err) {
      const error = err instanceof WalkawayError ? err : new WalkawayError('MALFORMED', String(err));
      this.#onReport?.({ type: 'rejected', processor: this.name, hash: op.hash, error });
      return [];
    }
    if (!write) return [];
    const deleted = write.deleted === true;
    const stamp = stampOf(op, input.lamport);
    if (!this.write(write.key, write.value, deleted, stamp)) return [];
    return [{ key: write.key, value: deleted ? undefined : write.value, deleted, stamp }];
  }

  get(key: string): V | undefined {
    return this.#entries.get(key)?.value;
  }

  has(key: string): boolean {
    const e = this.#entries.get(key);
    return e !== undefined && !e.deleted;
  }

  entry(key: string): LwwEntry<V> | undefined {
    return this.#entries.get(key);
  }

  /** Live keys and values, in key order. */
  entries(): [string, V | undefined][] {
    return [...this.#entries]
      .filter(([, e]) => !e.deleted)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, e]) => [k, e.value]);
  }

  get size(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (!e.deleted) n++;
    return n;
  }

  /** Everything, tombstones included, in a canonical form: equal states give equal snapshots. */
  snapshot(): { key: string; deleted: boolean; value: unknown; hash: string }[] {
    return [...this.#entries]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, e]) => ({ key, deleted: e.deleted, value: e.value, hash: toHex(e.stamp.hash) }));
  }

  /** State-based merge: the same as applying every write the other map has seen. */
  merge(other: LwwMap<V>): void {
    for (const [key, e] of other.#entries) this.write(key, e.value, e.deleted, e.stamp);
  }
}
