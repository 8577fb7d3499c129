import type Database from 'better-sqlite3';

const OP = 'local_seq, hash, header, body';

const SQL = {
  byHash: `SELECT ${OP} FROM operations WHERE hash = ?`,
  hasHash: 'SELECT 1 FROM operations WHERE hash = ?',
  deleteBody: 'UPDATE operations SET body = NULL WHERE hash = ? AND body IS NOT NULL',
  after: `SELECT ${OP} FROM operations WHERE local_seq > ? ORDER BY local_seq LIMIT ?`,
  afterInTopic: `SELECT o.local_seq, o.hash, o.header, o.body FROM operations o
    JOIN topic_logs t ON t.log_ref = o.log_ref
    WHERE t.topic = ? AND o.local_seq > ? ORDER BY o.local_seq LIMIT ?`,
  latest: `SELECT ${OP} FROM operations WHERE log_ref = ? ORDER BY seq_num DESC LIMIT 1`,
  tip: 'SELECT seq_num, hash FROM operations WHERE log_ref = ? ORDER BY seq_num DESC LIMIT 1',
  headerAt: 'SELECT header FROM operations WHERE log_ref = ? AND seq_num = ?',
  readLog: `SELECT ${OP} FROM operations WHERE log_ref = ? AND seq_num > ? ORDER BY seq_num LIMIT ?`,
  deleteBefore: 'DELETE FROM operations WHERE log_ref = ? AND seq_num < ?',
  deleteFrom: 'DELETE FROM operations WHERE log_ref = ? AND seq_num >= ?',
  insert: 'INSERT INTO operations (hash, log_ref, seq_num, header, body) VALUES (?, ?, ?, ?, ?)',
  logRef: 'SELECT log_ref FROM logs WHERE author = ? AND log_id = ?',
  newLog: 'INSERT INTO logs (author, log_id) VALUES (?, ?)',
  forks: `SELECT l.author, l.log_id, f.seq_num, f.header_a, f.header_b FROM forks f JOIN logs l ON l.log_ref = f.log_ref`,
  setFork: 'INSERT OR REPLACE INTO forks (log_ref, seq_num, header_a, header_b) VALUES (?, ?, ?, ?)',
  link: 'INSERT OR IGNORE INTO topic_logs (topic, log_ref) VALUES (?, ?)',
  logs: 'SELECT l.author, l.log_id FROM topic_logs t JOIN logs l ON l.log_ref = t.log_ref WHERE t.topic = ?',
  heights: `SELECT * FROM (SELECT l.author, l.log_id,
      (SELECT max(seq_num) FROM operations o WHERE o.log_ref = t.log_ref) AS seq_num
    FROM topic_logs t JOIN logs l ON l.log_ref = t.log_ref WHERE t.topic = ?) WHERE seq_num IS NOT NULL`,
  getCursor: 'SELECT value FROM cursors WHERE name = ?',
  setCursor: 'INSERT OR REPLACE INTO cursors (name, value) VALUES (?, ?)',
};

export type Statements = Record<keyof typeof SQL, Database.Statement<unknown[], unknown>>;

export function prepareStatements(db: Database.Database): Statements {
  const out = {} as Statements;
  for (const [name, text] of Object.entries(SQL)) out[name as keyof typeof SQL] = db.prepare(text);
  return out;
}
