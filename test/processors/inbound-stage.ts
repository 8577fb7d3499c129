/**
 * The node's inbound path (src/node/inbound) as the first stage of a
 * processor pipeline, for the processor tests: raw header and body bytes in,
 * stored operations out, everything else reported with its typed error.
 * With `verify`, signatures are checked in bulk (as sync does), which makes
 * the stage asynchronous.
 */
import { decodeOperationUnverified, type Operation, type WalkawayError } from '../../src/core/index.ts';
import { InboundStoreDriver, type Verifier } from '../../src/node/inbound/index.ts';
import type { Outputs, Processor, ReportSink } from '../../src/processors/index.ts';
import type { IngestOutcome, Store, StoredOperation } from '../../src/store/index.ts';
import type { IngestResult } from '../../src/sync/index.ts';

export type InboundStageInput = { headerBytes: Uint8Array; body?: Uint8Array } | { operation: Operation };

export class InboundStage implements Processor<InboundStageInput | readonly InboundStageInput[], StoredOperation> {
  readonly name = 'ingest';
  readonly #driver: InboundStoreDriver;
  readonly #topic: Uint8Array;
  readonly #onReport?: ReportSink;
  readonly #bulk: boolean;

  constructor(options: { store: Store; topic?: Uint8Array; onReport?: ReportSink; verify?: Verifier['verify'] }) {
    this.#driver = new InboundStoreDriver({ store: options.store, verifier: options.verify && { verify: options.verify }, seed: 1 });
    // Without a topic, logs are linked to none that matters here.
    this.#topic = options.topic ?? new Uint8Array(32);
    this.#onReport = options.onReport;
    this.#bulk = options.verify !== undefined;
  }

  process(input: InboundStageInput | readonly InboundStageInput[]): Outputs<StoredOperation> {
    const ops: Operation[] = [];
    for (const item of Array.isArray(input) ? input : [input as InboundStageInput]) {
      try {
        ops.push('operation' in item ? item.operation : decodeOperationUnverified(item.headerBytes, item.body));
      } catch (err) {
        this.#onReport?.({ type: 'rejected', processor: this.name, error: err as WalkawayError });
      }
    }
    if (this.#bulk) return this.#viaBatch(ops);
    const results: IngestResult[] = [];
    for (const op of ops) this.#driver.ingest('multicast', this.#topic, op, (r) => results.push(r));
    return this.#report(results);
  }

  async #viaBatch(ops: Operation[]): Promise<StoredOperation[]> {
    const results: IngestResult[] = [];
    const session = this.#driver.open({ mode: 'all', batchSize: 1000, onResults: (r) => results.push(...r), onBacklog: () => {} });
    for (const op of ops) session.push({ operation: op, topic: this.#topic, kind: 'sync' });
    await session.idle();
    session.close();
    return this.#report(results);
  }

  #report(results: IngestResult[]): StoredOperation[] {
    const out: StoredOperation[] = [];
    for (const { outcome } of results as { outcome: IngestOutcome }[]) {
      if (outcome.status === 'inserted') out.push(outcome.operation);
      else if (outcome.status === 'rejected') this.#onReport?.({ type: 'rejected', processor: this.name, hash: outcome.hash, error: outcome.error });
      else this.#onReport?.({ type: outcome.status, processor: this.name, hash: outcome.hash });
    }
    return out;
  }
}
