/**
 * Log pruning: an operation with the prune flag at seqNum `s` (basic
 * extension) lets every peer delete the entries below `s` of its log. The
 * operation itself passes on; the deletion is reported. Idempotent: deleting
 * what is gone deletes nothing.
 */
import { logIdOf, pruneFlagOf } from '../core/index.ts';
import type { Store, StoredOperation } from '../store/index.ts';
import type { Processor, ReportSink } from './types.ts';

export interface PruneConfig {
  store: Store;
  onReport?: ReportSink;
}

export class PruneProcessor implements Processor<StoredOperation, StoredOperation> {
  readonly name = 'prune';
  readonly #store: Store;
  readonly #onReport: ReportSink | undefined;

  constructor(config: PruneConfig) {
    this.#store = config.store;
    this.#onReport = config.onReport;
  }

  process(op: StoredOperation): StoredOperation[] {
    if (pruneFlagOf(op.header)) {
      const author = op.header.publicKey;
      const logId = logIdOf(op.header);
      const seqNum = op.header.seqNum;
      const deleted = this.#store.deleteBefore(author, logId, seqNum);
      if (deleted > 0) this.#onReport?.({ type: 'pruned', processor: this.name, author, logId, seqNum, deleted });
    }
    return [op];
  }
}
