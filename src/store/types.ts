import type { Hash, Operation, PublicKey, WalkawayError } from '../core/index.ts';

/** A log is (author, logId). */
export interface LogRef {
  author: PublicKey;
  logId: Uint8Array;
}

/** The latest seqNum stored for a log. */
export interface LogHeight extends LogRef {
  seqNum: number;
}

/** An operation as stored: `localSeq` is its insertion order in this store. */
export interface StoredOperation extends Operation {
  localSeq: number;
}

export type IngestOutcome =
  | { status: 'inserted'; operation: StoredOperation }
  /** Already stored (the topic link is still made). */
  | { status: 'duplicate'; hash: Hash }
  /** Below a prune point of its log: deleted on purpose, nothing to store. */
  | { status: 'outdated'; hash: Hash }
  | { status: 'rejected'; hash: Hash; error: WalkawayError };

/** Two different headers of one log at one seqNum: proof that the author forked. */
export interface ForkEvidence extends LogRef {
  seqNum: number;
  /** The two lowest-hash headers seen at `seqNum`, in hash order. */
  headers: [Uint8Array, Uint8Array];
}

export interface OperationStore {
  getOperation(hash: Hash): StoredOperation | undefined;
  hasOperation(hash: Hash): boolean;
  /** Deletes the body, keeps the header. Returns whether a body was deleted. */
  deleteBody(hash: Hash): boolean;
  /** Operations in insertion order after `localSeq`, optionally of one topic. */
  operationsAfter(localSeq: number, limit: number, topic?: Uint8Array): StoredOperation[];
}

export interface LogStore {
  latest(author: PublicKey, logId: Uint8Array): StoredOperation | undefined;
  /** Up to `limit` entries with seqNum > afterSeq, in seq order (page through a log). */
  readLog(author: PublicKey, logId: Uint8Array, afterSeq: number, limit: number): StoredOperation[];
  /** Deletes the entries below `seqNum` (a prune point). Returns how many. */
  deleteBefore(author: PublicKey, logId: Uint8Array, seqNum: number): number;
  forks(): ForkEvidence[];
}

export interface TopicStore {
  associate(topic: Uint8Array, author: PublicKey, logId: Uint8Array): void;
  logs(topic: Uint8Array): LogRef[];
  heights(topic: Uint8Array): LogHeight[];
}

export interface CursorStore {
  getCursor(name: string): Uint8Array | undefined;
  setCursor(name: string, value: Uint8Array): void;
}

export interface IngestItem {
  operation: Operation;
  topic?: Uint8Array;
}

export interface IngestOptions {
  /**
   * false: the commit may skip the disk sync (SQLite under `durability:
   * 'full'` commits it with `synchronous=NORMAL`). A crash of the process
   * still loses nothing; a power cut may roll back the last such commits,
   * always a suffix of the commit order, and the next durable commit syncs
   * them too. For other authors' operations, which sync fetches again; never
   * for this node's own, whose seqNum must not be reused after a power cut.
   * Default true.
   */
  durable?: boolean;
}

/**
 * The store of a node. Ingest is one transaction per operation (validate
 * against the log, detect forks, skip duplicates, insert, link the topic);
 * `ingestBatch` shares one transaction among many and never lets one bad
 * operation undo the others. Methods are synchronous: both backends are.
 */
export interface Store extends OperationStore, LogStore, TopicStore, CursorStore {
  readonly kind: 'memory' | 'sqlite';
  ingest(operation: Operation, topic?: Uint8Array): IngestOutcome;
  ingestBatch(items: IngestItem[], options?: IngestOptions): IngestOutcome[];
  close(): void;
}
