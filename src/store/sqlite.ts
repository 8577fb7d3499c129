/**
 * The default store: one SQLite file (better-sqlite3, WAL). Each ingest is
 * one transaction and a batch shares one; a process killed in the middle
 * leaves every committed operation readable and the file consistent. By
 * default a commit is also durable across a power cut (`synchronous=FULL`:
 * the WAL is synced at every commit); `durability: 'normal'` trades that for
 * speed: a power cut may then roll back the last commits (never corrupt).
 */
import Database from 'better-sqlite3';
import { decodeTrustedOperation, type Hash, PublicKey, WalkawayError, type Operation } from '../core/index.ts';
import { bytesKey, logAddress, type ForkRecord, type IngestBackend, type LogAddress, type LogTip } from './backend.ts';
import { ingestOperation } from './ingest.ts';
import { SCHEMA, SCHEMA_VERSION } from './sqlite-schema.ts';
import { prepareStatements, type Statements } from './sqlite-statements.ts';
import type { ForkEvidence, IngestItem, IngestOptions, IngestOutcome, LogHeight, LogRef, Store, StoredOperation } from './types.ts';

interface OperationRow {
  local_seq: number;
  hash: Uint8Array;
  header: Uint8Array;
  body: Uint8Array | null;
}

interface LogRow {
  author: Uint8Array;
  log_id: Uint8Array;
}

const MAX_CACHED = 100_000;

/**
 * 'full' (default): a commit survives a power cut once `ingest` returns.
 * 'normal': the WAL is synced only at checkpoints, so a power cut (not a
 * crash of the process) can lose the last commits; about 2.5x less CPU for
 * one-operation transactions (bench/ratios.ts, `publishNormal`).
 */
export type Durability = 'full' | 'normal';

export interface SqliteStoreOptions {
  durability?: Durability;
}

export class SqliteStore implements Store, IngestBackend {
  readonly kind = 'sqlite' as const;
  readonly path: string;
  readonly #db: Database.Database;
  readonly #sql: Statements;
  readonly #ingestOne: (op: Operation, topic?: Uint8Array) => IngestOutcome;
  readonly #ingestMany: (items: IngestItem[]) => IngestOutcome[];
  /** Set when the store syncs every commit: switches for commits that need not be. */
  readonly #relaxSync: { on: Database.Statement; off: Database.Statement } | undefined;
  /**
   * Read caches of the ingest path: log refs, log tips, forks (rare, all
   * loaded) and topic links already made. Dropped whenever a transaction
   * fails, since a rollback would leave them ahead of the file.
   */
  #refs = new Map<string, number>();
  #tips = new Map<string, LogTip | null>();
  #forks = new Map<string, ForkRecord>();
  #linked = new Set<string>();
  /** Topic ids as map keys, per id array: a batch carries the same array in every item. */
  #topicKeys = new WeakMap<Uint8Array, string>();

  private constructor(path: string, db: Database.Database, durability: Durability) {
    this.path = path;
    this.#db = db;
    this.#sql = prepareStatements(db);
    this.#ingestOne = this.#guarded(db.transaction((op: Operation, topic?: Uint8Array) => ingestOperation(this, op, topic)));
    this.#ingestMany = this.#guarded(db.transaction((items: IngestItem[]) => items.map((item) => ingestOperation(this, item.operation, item.topic))));
    this.#loadForks();
    this.#relaxSync = durability === 'full' ? { on: db.prepare('PRAGMA synchronous = NORMAL'), off: db.prepare('PRAGMA synchronous = FULL') } : undefined;
  }

  /** Opens (or creates) the store at `path` (`:memory:` for a throwaway one). */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    const durability = options.durability ?? 'full';
    if (durability !== 'full' && durability !== 'normal') {
      throw new WalkawayError('INVALID_ARGUMENT', `durability must be 'full' or 'normal'`, { durability });
    }
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(durability === 'full' ? 'synchronous = FULL' : 'synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      // Checkpoint less often: the random hash index dirties pages all over the
      // file in every batch, and a page rewritten by many commits is copied back once.
      db.pragma('wal_autocheckpoint = 10000');
      migrate(db, path);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteStore(path, db, durability);
  }

  ingest(operation: Operation, topic?: Uint8Array): IngestOutcome {
    return this.#ingestOne(operation, topic);
  }

  ingestBatch(items: IngestItem[], options: IngestOptions = {}): IngestOutcome[] {
    if (options.durable !== false || !this.#relaxSync) return this.#ingestMany(items);
    // The level is the connection's, read at each commit: set around this one.
    this.#relaxSync.on.run();
    try {
      return this.#ingestMany(items);
    } finally {
      this.#relaxSync.off.run();
    }
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  /** The connection's journal mode and `synchronous` level, read back from SQLite. */
  pragmas(): { journalMode: string; synchronous: 'off' | 'normal' | 'full' | 'extra' } {
    const journalMode = String(this.#db.pragma('journal_mode', { simple: true }));
    const level = this.#db.pragma('synchronous', { simple: true }) as number;
    return { journalMode, synchronous: (['off', 'normal', 'full', 'extra'] as const)[level] };
  }

  getOperation(hash: Hash): StoredOperation | undefined {
    return toOperation(this.#sql.byHash.get(hash.bytes) as OperationRow | undefined);
  }

  hasOperation(hash: Hash): boolean {
    return this.hasHash(hash.bytes);
  }

  deleteBody(hash: Hash): boolean {
    return this.#sql.deleteBody.run(hash.bytes).changes > 0;
  }

  operationsAfter(localSeq: number, limit: number, topic?: Uint8Array): StoredOperation[] {
    const rows = topic ? this.#sql.afterInTopic.all(topic, localSeq, limit) : this.#sql.after.all(localSeq, limit);
    return (rows as OperationRow[]).map((row) => toOperation(row)!);
  }

  latest(author: PublicKey, logId: Uint8Array): StoredOperation | undefined {
    const ref = this.#ref(logAddress(author, logId));
    return ref === undefined ? undefined : toOperation(this.#sql.latest.get(ref) as OperationRow | undefined);
  }

  readLog(author: PublicKey, logId: Uint8Array, afterSeq: number, limit: number): StoredOperation[] {
    const ref = this.#ref(logAddress(author, logId));
    if (ref === undefined) return [];
    return (this.#sql.readLog.all(ref, afterSeq, limit) as OperationRow[]).map((row) => toOperation(row)!);
  }

  deleteBefore(author: PublicKey, logId: Uint8Array, seqNum: number): number {
    const log = logAddress(author, logId);
    const ref = this.#ref(log);
    if (ref === undefined) return 0;
    this.#tips.delete(log.key);
    return this.#sql.deleteBefore.run(ref, seqNum).changes;
  }

  forks(): ForkEvidence[] {
    const rows = this.#sql.forks.all() as (LogRow & { seq_num: number; header_a: Uint8Array; header_b: Uint8Array })[];
    return rows.map((r) => ({
      ...toLogRef(r),
      seqNum: r.seq_num,
      headers: [bytes(r.header_a), bytes(r.header_b)],
    }));
  }

  associate(topic: Uint8Array, author: PublicKey, logId: Uint8Array): void {
    this.link(topic, logAddress(author, logId));
  }

  logs(topic: Uint8Array): LogRef[] {
    return (this.#sql.logs.all(topic) as LogRow[]).map(toLogRef);
  }

  heights(topic: Uint8Array): LogHeight[] {
    const rows = this.#sql.heights.all(topic) as (LogRow & { seq_num: number })[];
    return rows.map((r) => ({ ...toLogRef(r), seqNum: r.seq_num }));
  }

  getCursor(name: string): Uint8Array | undefined {
    const row = this.#sql.getCursor.get(name) as { value: Uint8Array } | undefined;
    return row && bytes(row.value);
  }

  setCursor(name: string, value: Uint8Array): void {
    this.#sql.setCursor.run(name, value);
  }

  // --- IngestBackend -------------------------------------------------------

  hasHash(hash: Uint8Array): boolean {
    return this.#sql.hasHash.get(hash) !== undefined;
  }

  headerAt(log: LogAddress, seqNum: number): Uint8Array | undefined {
    const ref = this.#ref(log);
    const row = ref === undefined ? undefined : (this.#sql.headerAt.get(ref, seqNum) as { header: Uint8Array } | undefined);
    return row && bytes(row.header);
  }

  tip(log: LogAddress): LogTip | undefined {
    const cached = this.#tips.get(log.key);
    if (cached !== undefined) return cached ?? undefined;
    const ref = this.#ref(log);
    const row = ref === undefined ? undefined : (this.#sql.tip.get(ref) as { seq_num: number; hash: Uint8Array } | undefined);
    const tip = row ? { seqNum: row.seq_num, hash: bytes(row.hash) } : undefined;
    this.#cache(this.#tips, log.key, tip ?? null);
    return tip;
  }

  insert(log: LogAddress, op: Operation): StoredOperation {
    const { header } = op;
    const ref = this.#ref(log, true)!;
    const result = this.#sql.insert.run(op.hash.bytes, ref, header.seqNum, op.headerBytes, op.body ?? null);
    this.#cache(this.#tips, log.key, { seqNum: header.seqNum, hash: op.hash.bytes });
    return { ...op, localSeq: Number(result.lastInsertRowid) };
  }

  deleteFrom(log: LogAddress, seqNum: number): number {
    const ref = this.#ref(log);
    if (ref === undefined) return 0;
    this.#tips.delete(log.key);
    return this.#sql.deleteFrom.run(ref, seqNum).changes;
  }

  getFork(log: LogAddress): ForkRecord | undefined {
    return this.#forks.size === 0 ? undefined : this.#forks.get(log.key);
  }

  setFork(log: LogAddress, fork: ForkRecord): void {
    const [a, b = a] = fork.headers;
    this.#sql.setFork.run(this.#ref(log, true), fork.seqNum, a, b);
    this.#forks.set(log.key, { seqNum: fork.seqNum, headers: [a, b] });
  }

  link(topic: Uint8Array, log: LogAddress): void {
    // Length first: the key stays unambiguous whatever the topic's length.
    let topicKey = this.#topicKeys.get(topic);
    if (topicKey === undefined) this.#topicKeys.set(topic, (topicKey = String.fromCharCode(topic.length) + bytesKey(topic)));
    const key = topicKey + log.key;
    if (this.#linked.has(key)) return;
    this.#sql.link.run(topic, this.#ref(log, true));
    if (this.#linked.size > MAX_CACHED) this.#linked.clear();
    this.#linked.add(key);
  }

  // --- internals -----------------------------------------------------------

  /** The integer ref of a log; with `create`, made if missing. */
  #ref(log: LogAddress, create = false): number | undefined {
    const cached = this.#refs.get(log.key);
    if (cached !== undefined) return cached;
    let row = this.#sql.logRef.get(log.author.bytes, log.logId) as { log_ref: number } | undefined;
    if (!row && create) row = { log_ref: Number(this.#sql.newLog.run(log.author.bytes, log.logId).lastInsertRowid) };
    if (row) this.#cache(this.#refs, log.key, row.log_ref);
    return row?.log_ref;
  }

  #cache<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size > MAX_CACHED) map.clear();
    map.set(key, value);
  }

  #guarded<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    return (...args: A) => {
      try {
        return fn(...args);
      } catch (err) {
        this.#refs.clear();
        this.#tips.clear();
        this.#linked.clear();
        this.#loadForks();
        throw err;
      }
    };
  }

  #loadForks(): void {
    this.#forks.clear();
    for (const fork of this.forks()) {
      this.#forks.set(logAddress(fork.author, fork.logId).key, { seqNum: fork.seqNum, headers: fork.headers });
    }
  }
}

function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
  if (version !== 0 || tables.n > 0) {
    throw new WalkawayError('SCHEMA_VERSION', `${path} has schema version ${version}, this build reads ${SCHEMA_VERSION}`, {
      path,
      found: version,
      expected: SCHEMA_VERSION,
    });
  }
  db.transaction(() => {
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

function toOperation(row: OperationRow | undefined): StoredOperation | undefined {
  if (!row) return undefined;
  const op = decodeTrustedOperation(bytes(row.header), row.hash, row.body ? bytes(row.body) : undefined);
  return { ...op, localSeq: row.local_seq };
}

function toLogRef(row: LogRow): LogRef {
  return { author: PublicKey.fromBytes(row.author), logId: bytes(row.log_id) };
}

/** better-sqlite3 hands out Buffers; the stack works with plain Uint8Arrays. */
function bytes(buf: Uint8Array): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
