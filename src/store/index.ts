/**
 * store: where operations live. One interface (`Store`: operations, logs,
 * topics, cursors) with two implementations that pass one contract suite:
 * SQLite (the default, one file, WAL) and in-memory. Ingest applies the log
 * rules of DESIGN.md (core) in one transaction: backlinks, gaps, prune
 * points, duplicates, and forks resolved the same way whatever the order.
 */
export type {
  Store,
  OperationStore,
  LogStore,
  TopicStore,
  CursorStore,
  LogRef,
  LogHeight,
  StoredOperation,
  IngestOutcome,
  IngestItem,
  IngestOptions,
  ForkEvidence,
} from './types.ts';
export { MemoryStore } from './memory.ts';
export { SqliteStore, type Durability, type SqliteStoreOptions } from './sqlite.ts';
export { openStore, type StoreOptions } from './open.ts';
