/**
 * The shapes every processor shares. A processor is a small state machine:
 * `process(input)` returns the outputs this input releases (none, one, or a
 * whole cascade). Returning outputs, instead of pushing them into a queue,
 * keeps each processor testable alone with no async at all, makes
 * `pipeline(a, b, c)` a plain loop (no queue between stages, natural
 * back-pressure: `process` returns once every later stage has handled the
 * outputs), and lets the pipeline know exactly when an input is finished so
 * that it can acknowledge it (`commit`). The `AsyncIterable` of outputs lives
 * at the edge: `ProcessorStream` (pipeline.ts).
 */
import type { Hash, PublicKey, WalkawayError } from '../core/index.ts';
import type { StoredOperation } from '../store/index.ts';

/** Synchronous where possible (ordering, CRDTs), a promise where needed (verification). */
export type Outputs<O> = O[] | Promise<O[]>;

export interface Processor<I, O> {
  readonly name: string;
  /** Handles one input and returns what it releases now. Never throws on bad input: reports it. */
  process(input: I): Outputs<O>;
  /**
   * Handles a batch (everything one earlier stage released at once). Ends
   * in the state `process` on each input would reach; what it returns may
   * be coalesced, as the processor documents.
   */
  processAll?(inputs: readonly I[]): Outputs<O>;
  /** Outputs owed from before a restart (e.g. stored but never released operations). */
  start?(): Outputs<O>;
  /** Every output returned so far has been handled downstream: acknowledge it. */
  commit?(): void;
  /** Persist what is batched in memory now (cursor writes). */
  flush?(): void;
}

/**
 * What processors report beside their outputs: dropped input with its typed
 * error, duplicates, overflow of a bounded set, pruning. Delivered to the
 * `onReport` callback given in each processor's config.
 */
export type ProcessorReport =
  | { type: 'rejected'; processor: string; hash?: Hash; error: WalkawayError }
  | { type: 'duplicate'; processor: string; hash: Hash }
  | { type: 'outdated'; processor: string; hash: Hash }
  | { type: 'overflow'; processor: string; hash: Hash; error: WalkawayError }
  | { type: 'pruned'; processor: string; author: PublicKey; logId: Uint8Array; seqNum: number; deleted: number };

export type ReportSink = (report: ProcessorReport) => void;

/**
 * An operation released in causal order: every dependency (its backlink and
 * every hash in `previous`) was released before it. `lamport` is its Lamport
 * timestamp: 0 without dependencies, else one more than the largest among
 * them (a prune point starts again at its seqNum). `prepared` is what the
 * orderer's `prepare` made of the operation when it arrived (undefined
 * without one).
 */
export interface OrderedOperation<P = unknown> {
  operation: StoredOperation;
  lamport: number;
  prepared?: P;
}

/** The order in which concurrent writes are ranked: Lamport, wall clock, author, hash. */
export interface Stamp {
  lamport: number;
  /** Microseconds since the epoch as written by the author (0 if none). */
  timestamp: number;
  author: Uint8Array;
  hash: Uint8Array;
}
