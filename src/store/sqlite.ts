/**
 * The default store: one SQLite file (better-sqlite3, WAL). Each ingest is
 * one transaction and a batch shares one; a process killed in the middle
 * leaves every committed operation readable and the file consistent.
 */
import Database from 'better-sqlite3';
import { decodeHeader, Hash, logIdOf, PublicKey, WalkawayError, type Operation } from '../core/index.ts';
import type { ForkRecord, IngestBackend, LogTip } from './backend.ts';
import { ingestOperation } from './ingest.ts';
import { SCHEMA, SCHEMA_VERSION } from './sqlite-schema.ts';
import type {
  ForkEvidence,
  IngestItem,
  IngestOutcome,
  LogHeight,
  LogRef,
  Store,
  StoredOperation,
} from './types.ts';

interface OperationRow {
  local_seq: number;
  hash: Uint8Array;
  header: Uint8Array;
  body: Uint8Array | null;
}

type Statement = Database.Statement<unknown[], unknown>;

export class SqliteStore implements Store, IngestBackend {
  readonly kind = 'sqlite' as const;
  readonly path: string;
  readonly #db: Database.Database;
  readonly #stmts: Record<string, Statement>;
  readonly #ingestOne: (op: Operation, topic?: Uint8Array) => IngestOutcome;
  readonly #ingestMany: (items: IngestItem[]) => IngestOutcome[];

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.#db = db;
    this.#stmts = prepare(db);
    this.#ingestOne = db.transaction((op: Operation, topic?: Uint8Array) => ingestOperation(this, op, topic));
    this.#ingestMany = db.transaction((items: IngestItem[]) =>
      items.map((item) => ingestOperation(this, item.operation, item.topic)),
    );
  }

  /** Opens (or creates) the store at `path` (`:memory:` for a throwaway one). */
  static open(path: string): SqliteStore {
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, path);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteStore(path, db);
  }

  ingest(operation: Operation, topic?: Uint8Array): IngestOutcome {
    return this.#ingestOne(operation, topic);
  }

  ingestBatch(items: IngestItem[]): IngestOutcome[] {
    return this.#ingestMany(items);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  getOperation(hash: Hash): StoredOperation | undefined {
    return rowToOperation(this.#stmts.byHash.get(hash.bytes) as OperationRow | undefined);
  }

  hasOperation(hash: Hash): boolean {
    return this.hasHash(hash.bytes);
  }

  deleteBody(hash: Hash): boolean {
    return this.#stmts.deleteBody.run(hash.bytes).changes > 0;
  }

  operationsAfter(localSeq: number, limit: number, topic?: Uint8Array): StoredOperation[] {
    const rows = topic
      ? this.#stmts.afterInTopic.all(topic, localSeq, limit)
      : this.#stmts.after.all(localSeq, limit);
    return (rows as OperationRow[]).map((row) => rowToOperation(row)!);
  }

  latest(author: PublicKey, logId: Uint8Array): StoredOperation | undefined {
    return rowToOperation(this.#stmts.latest.get(author.bytes, logId) as OperationRow | undefined);
  }

  readLog(author: PublicKey, logId: Uint8Array, afterSeq: number, limit: number): StoredOperation[] {
    const rows = this.#stmts.readLog.all(author.bytes, logId, afterSeq, limit) as OperationRow[];
    return rows.map((row) => rowToOperation(row)!);
  }

  deleteBefore(author: PublicKey, logId: Uint8Array, seqNum: number): number {
    return this.#stmts.deleteBefore.run(author.bytes, logId, seqNum).changes;
  }

  forks(): ForkEvidence[] {
    const rows = this.#stmts.forks.all() as { author: Uint8Array; log_id: Uint8Array; seq_num: number; header_a: Uint8Array; header_b: Uint8Array }[];
    return rows.map((r) => ({
      author: PublicKey.fromBytes(r.author),
      logId: bytes(r.log_id),
      seqNum: r.seq_num,
      headers: [bytes(r.header_a), bytes(r.header_b)],
    }));
  }

  associate(topic: Uint8Array, author: PublicKey, logId: Uint8Array): void {
    this.#stmts.associate.run(topic, author.bytes, logId);
  }

  logs(topic: Uint8Array): LogRef[] {
    const rows = this.#stmts.logs.all(topic) as { author: Uint8Array; log_id: Uint8Array }[];
    return rows.map((r) => ({ author: PublicKey.fromBytes(r.author), logId: bytes(r.log_id) }));
  }

  heights(topic: Uint8Array): LogHeight[] {
    const rows = this.#stmts.heights.all(topic) as { author: Uint8Array; log_id: Uint8Array; seq_num: number }[];
    return rows.map((r) => ({ author: PublicKey.fromBytes(r.author), logId: bytes(r.log_id), seqNum: r.seq_num }));
  }

  getCursor(name: string): Uint8Array | undefined {
    const row = this.#stmts.getCursor.get(name) as { value: Uint8Array } | undefined;
    return row && bytes(row.value);
  }

  setCursor(name: string, value: Uint8Array): void {
    this.#stmts.setCursor.run(name, value);
  }

  // --- IngestBackend -------------------------------------------------------

  hasHash(hash: Uint8Array): boolean {
    return this.#stmts.hasHash.get(hash) !== undefined;
  }

  hashAt(author: PublicKey, logId: Uint8Array, seqNum: number): Uint8Array | undefined {
    const row = this.#stmts.at.get(author.bytes, logId, seqNum) as { hash: Uint8Array } | undefined;
    return row && bytes(row.hash);
  }

  headerAt(author: PublicKey, logId: Uint8Array, seqNum: number): Uint8Array | undefined {
    const row = this.#stmts.at.get(author.bytes, logId, seqNum) as { header: Uint8Array } | undefined;
    return row && bytes(row.header);
  }

  tip(author: PublicKey, logId: Uint8Array): LogTip | undefined {
    const row = this.#stmts.tip.get(author.bytes, logId) as { seq_num: number; hash: Uint8Array } | undefined;
    return row && { seqNum: row.seq_num, hash: bytes(row.hash) };
  }

  insert(op: Operation): StoredOperation {
    const { header } = op;
    const result = this.#stmts.insert.run(
      op.hash.bytes,
      header.publicKey.bytes,
      logIdOf(header),
      header.seqNum,
      op.headerBytes,
      op.body ?? null,
    );
    return { ...op, localSeq: Number(result.lastInsertRowid) };
  }

  deleteFrom(author: PublicKey, logId: Uint8Array, seqNum: number): number {
    return this.#stmts.deleteFrom.run(author.bytes, logId, seqNum).changes;
  }

  getFork(author: PublicKey, logId: Uint8Array): ForkRecord | undefined {
    const row = this.#stmts.getFork.get(author.bytes, logId) as { seq_num: number; header_a: Uint8Array; header_b: Uint8Array } | undefined;
    return row && { seqNum: row.seq_num, headers: [bytes(row.header_a), bytes(row.header_b)] };
  }

  setFork(author: PublicKey, logId: Uint8Array, fork: ForkRecord): void {
    const [a, b] = fork.headers;
    this.#stmts.setFork.run(author.bytes, logId, fork.seqNum, a, b ?? a);
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

const COLUMNS = 'local_seq, hash, header, body';

function prepare(db: Database.Database): Record<string, Statement> {
  const sql: Record<string, string> = {
    byHash: `SELECT ${COLUMNS} FROM operations WHERE hash = ?`,
    hasHash: 'SELECT 1 FROM operations WHERE hash = ?',
    deleteBody: 'UPDATE operations SET body = NULL WHERE hash = ? AND body IS NOT NULL',
    after: `SELECT ${COLUMNS} FROM operations WHERE local_seq > ? ORDER BY local_seq LIMIT ?`,
    afterInTopic: `SELECT o.local_seq, o.hash, o.header, o.body FROM operations o
      JOIN topic_logs t ON t.author = o.author AND t.log_id = o.log_id
      WHERE t.topic = ? AND o.local_seq > ? ORDER BY o.local_seq LIMIT ?`,
    latest: `SELECT ${COLUMNS} FROM operations WHERE author = ? AND log_id = ? ORDER BY seq_num DESC LIMIT 1`,
    tip: 'SELECT seq_num, hash FROM operations WHERE author = ? AND log_id = ? ORDER BY seq_num DESC LIMIT 1',
    at: 'SELECT hash, header FROM operations WHERE author = ? AND log_id = ? AND seq_num = ?',
    readLog: `SELECT ${COLUMNS} FROM operations WHERE author = ? AND log_id = ? AND seq_num > ? ORDER BY seq_num LIMIT ?`,
    deleteBefore: 'DELETE FROM operations WHERE author = ? AND log_id = ? AND seq_num < ?',
    deleteFrom: 'DELETE FROM operations WHERE author = ? AND log_id = ? AND seq_num >= ?',
    insert: 'INSERT INTO operations (hash, author, log_id, seq_num, header, body) VALUES (?, ?, ?, ?, ?, ?)',
    forks: 'SELECT author, log_id, seq_num, header_a, header_b FROM forks',
    getFork: 'SELECT seq_num, header_a, header_b FROM forks WHERE author = ? AND log_id = ?',
    setFork: 'INSERT OR REPLACE INTO forks (author, log_id, seq_num, header_a, header_b) VALUES (?, ?, ?, ?, ?)',
    associate: 'INSERT OR IGNORE INTO topic_logs (topic, author, log_id) VALUES (?, ?, ?)',
    logs: 'SELECT author, log_id FROM topic_logs WHERE topic = ?',
    heights: `SELECT t.author, t.log_id, (SELECT max(seq_num) FROM operations o
      WHERE o.author = t.author AND o.log_id = t.log_id) AS seq_num
      FROM topic_logs t WHERE t.topic = ? AND seq_num IS NOT NULL`,
    getCursor: 'SELECT value FROM cursors WHERE name = ?',
    setCursor: 'INSERT OR REPLACE INTO cursors (name, value) VALUES (?, ?)',
  };
  return Object.fromEntries(Object.entries(sql).map(([name, text]) => [name, db.prepare(text)]));
}

function rowToOperation(row: OperationRow | undefined): StoredOperation | undefined {
  if (!row) return undefined;
  const headerBytes = bytes(row.header);
  return {
    hash: Hash.fromBytes(row.hash),
    header: decodeHeader(headerBytes, { trusted: true }),
    headerBytes,
    body: row.body ? bytes(row.body) : undefined,
    localSeq: row.local_seq,
  };
}

/** better-sqlite3 hands out Buffers; the stack works with plain Uint8Arrays. */
function bytes(buf: Uint8Array): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
