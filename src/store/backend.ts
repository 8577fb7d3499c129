import { logIdOf, type Header, type Operation, type PublicKey } from '../core/index.ts';
import type { StoredOperation } from './types.ts';

/**
 * A log and its string key, computed once per operation on the ingest path.
 * The key is one UTF-16 unit per byte (author then log id): a third of the
 * cost of hex and half its length to hash in every Map lookup. It is only
 * ever used as a Map key inside a store, never shown or stored.
 */
export interface LogAddress {
  author: PublicKey;
  logId: Uint8Array;
  key: string;
}

export function logAddress(author: PublicKey, logId: Uint8Array): LogAddress {
  return { author, logId, key: bytesKey(author.bytes) + bytesKey(logId) };
}

/**
 * A string with one code unit per byte: distinct bytes give distinct keys for
 * equal lengths (a public key is always 32 bytes, so an author followed by a
 * log id is unambiguous).
 */
export function bytesKey(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

export function logAddressOf(header: Header): LogAddress {
  return logAddress(header.publicKey, logIdOf(header));
}

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
  headerAt(log: LogAddress, seqNum: number): Uint8Array | undefined;
  tip(log: LogAddress): LogTip | undefined;
  insert(log: LogAddress, operation: Operation): StoredOperation;
  deleteFrom(log: LogAddress, seqNum: number): number;
  getFork(log: LogAddress): ForkRecord | undefined;
  setFork(log: LogAddress, fork: ForkRecord): void;
  link(topic: Uint8Array, log: LogAddress): void;
}
