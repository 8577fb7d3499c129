import type { Operation, PublicKey } from '../core/index.ts';
import type { StoredOperation } from './types.ts';

/** The tip of a log, as much as ingest needs to check the next entry. */
export interface LogTip {
  seqNum: number;
  hash: Uint8Array;
}

export interface ForkRecord {
  seqNum: number;
  headers: Uint8Array[];
}

/**
 * The primitive reads and writes each store implements; the ingest rules
 * (ingest.ts) are written once on top of them so both stores agree.
 */
export interface IngestBackend {
  hasHash(hash: Uint8Array): boolean;
  hashAt(author: PublicKey, logId: Uint8Array, seqNum: number): Uint8Array | undefined;
  headerAt(author: PublicKey, logId: Uint8Array, seqNum: number): Uint8Array | undefined;
  tip(author: PublicKey, logId: Uint8Array): LogTip | undefined;
  insert(operation: Operation): StoredOperation;
  deleteFrom(author: PublicKey, logId: Uint8Array, seqNum: number): number;
  getFork(author: PublicKey, logId: Uint8Array): ForkRecord | undefined;
  setFork(author: PublicKey, logId: Uint8Array, fork: ForkRecord): void;
  associate(topic: Uint8Array, author: PublicKey, logId: Uint8Array): void;
}
