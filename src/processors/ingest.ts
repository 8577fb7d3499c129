/**
 * Ingest: decode, validate (shape, payload, signature), then the store's
 * transactional ingest (backlink, fork and duplicate checks, insert, topic
 * link). Outputs only newly inserted operations; everything else is reported
 * with its typed error. An array of inputs shares one store transaction.
 *
 * Signatures are checked here with `decodeOperation`, or by `verify` (e.g.
 * `VerifyPool.verify`, on worker threads), which makes `process` async.
 */
import {
  decodeOperation,
  decodeOperationUnverified,
  DEFAULT_LIMITS,
  WalkawayError,
  type Limits,
  type Operation,
} from '../core/index.ts';
import type { IngestItem, Store, StoredOperation } from '../store/index.ts';
import type { Outputs, Processor, ReportSink } from './types.ts';

export type IngestInput =
  | { headerBytes: Uint8Array; body?: Uint8Array; topic?: Uint8Array }
  /** Already decoded and verified (e.g. created locally). */
  | { operation: Operation; topic?: Uint8Array };

export interface IngestConfig {
  store: Store;
  /** Topic to link logs to when an input names none. */
  topic?: Uint8Array;
  limits?: Limits;
  /** Verifies signatures of decoded operations in bulk (true = valid). */
  verify?: (operations: Operation[]) => Promise<boolean[]>;
  onReport?: ReportSink;
}

export class IngestProcessor implements Processor<IngestInput | readonly IngestInput[], StoredOperation> {
  readonly name = 'ingest';
  readonly #config: IngestConfig;
  readonly #limits: Limits;

  constructor(config: IngestConfig) {
    this.#config = config;
    this.#limits = config.limits ?? DEFAULT_LIMITS;
  }

  process(input: IngestInput | readonly IngestInput[]): Outputs<StoredOperation> {
    const inputs: readonly IngestInput[] = Array.isArray(input) ? input : [input as IngestInput];
    const items: IngestItem[] = [];
    const verifySelf = this.#config.verify === undefined;
    for (const item of inputs) {
      const decoded = this.#decode(item, verifySelf);
      if (decoded) items.push(decoded);
    }
    if (verifySelf) return this.#store(items);
    return this.#verify(items).then((valid) => this.#store(valid));
  }

  #decode(input: IngestInput, verify: boolean): IngestItem | undefined {
    const topic = input?.topic ?? this.#config.topic;
    try {
      if (input && 'operation' in input && input.operation) return { operation: input.operation, topic };
      if (!input || !('headerBytes' in input)) throw new WalkawayError('MALFORMED', 'ingest input needs headerBytes or an operation');
      const op = verify
        ? decodeOperation(input.headerBytes, input.body, this.#limits)
        : decodeOperationUnverified(input.headerBytes, input.body, this.#limits);
      return { operation: op, topic };
    } catch (err) {
      this.#reject(err);
      return undefined;
    }
  }

  async #verify(items: IngestItem[]): Promise<IngestItem[]> {
    if (items.length === 0) return items;
    const ok = await this.#config.verify!(items.map((i) => i.operation));
    return items.filter((item, i) => {
      if (ok[i]) return true;
      const hash = item.operation.hash;
      this.#reject(new WalkawayError('INVALID_SIGNATURE', `signature of ${hash.toHex()} does not verify`, { hash: hash.toHex() }), item.operation);
      return false;
    });
  }

  #store(items: IngestItem[]): StoredOperation[] {
    if (items.length === 0) return [];
    const { store, onReport } = this.#config;
    const outcomes = items.length === 1 ? [store.ingest(items[0].operation, items[0].topic)] : store.ingestBatch(items);
    const out: StoredOperation[] = [];
    for (const o of outcomes) {
      if (o.status === 'inserted') out.push(o.operation);
      else if (o.status === 'rejected') onReport?.({ type: 'rejected', processor: this.name, hash: o.hash, error: o.error });
      else onReport?.({ type: o.status, processor: this.name, hash: o.hash });
    }
    return out;
  }

  #reject(err: unknown, op?: Operation): void {
    const error = err instanceof WalkawayError ? err : new WalkawayError('MALFORMED', `cannot decode operation: ${String(err)}`);
    this.#config.onReport?.({ type: 'rejected', processor: this.name, hash: op?.hash, error });
  }
}
