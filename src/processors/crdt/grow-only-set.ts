/**
 * Grow-only set: elements are only ever added, so the state is the union of
 * everything seen, whatever the order and however often. By default an
 * element is an operation's body bytes (keyed by their hex); `decode` can
 * pick anything else out of an operation.
 */
import { toHex, WalkawayError, type Operation } from '../../core/index.ts';
import type { OrderedOperation, Processor, ReportSink } from '../types.ts';

export interface GrowOnlySetConfig<T> {
  /** Reads the element (and its identity) from an operation; undefined skips it. */
  decode?: (op: Operation) => { key: string; value: T } | undefined;
  onReport?: ReportSink;
}

export interface GrowOnlySetChange<T> {
  key: string;
  value: T;
}

function decodeBody(op: Operation): { key: string; value: Uint8Array } {
  if (!op.body) throw new WalkawayError('MALFORMED', 'set element has no body (deleted or empty)', { hash: op.hash.toHex() });
  return { key: toHex(op.body), value: op.body };
}

export class GrowOnlySet<T = Uint8Array> implements Processor<OrderedOperation, GrowOnlySetChange<T>> {
  readonly name = 'grow-only-set';
  readonly #elements = new Map<string, T>();
  readonly #decode: (op: Operation) => { key: string; value: T } | undefined;
  readonly #onReport: ReportSink | undefined;

  constructor(config: GrowOnlySetConfig<T> = {}) {
    this.#decode = config.decode ?? (decodeBody as unknown as (op: Operation) => { key: string; value: T });
    this.#onReport = config.onReport;
  }

  /** Adds an element; returns whether it was new. */
  add(key: string, value: T): boolean {
    if (this.#elements.has(key)) return false;
    this.#elements.set(key, value);
    return true;
  }

  process(input: OrderedOperation): GrowOnlySetChange<T>[] {
    let element: { key: string; value: T } | undefined;
    try {
      element = this.#decode(input.operation);
    } catch (err) {
      const error = err instanceof WalkawayError ? err : new WalkawayError('MALFORMED', String(err));
      this.#onReport?.({ type: 'rejected', processor: this.name, hash: input.operation.hash, error });
      return [];
    }
    if (!element || !this.add(element.key, element.value)) return [];
    return [element];
  }

  has(key: string): boolean {
    return this.#elements.has(key);
  }

  get size(): number {
    return this.#elements.size;
  }

  values(): T[] {
    return this.keys().map((k) => this.#elements.get(k)!);
  }

  /** Element keys in order: equal states give equal lists. */
  keys(): string[] {
    return [...this.#elements.keys()].sort();
  }

  merge(other: GrowOnlySet<T>): void {
    for (const [k, v] of other.#elements) this.add(k, v);
  }
}
