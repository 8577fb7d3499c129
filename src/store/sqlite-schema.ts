/**
 * The SQLite schema. `PRAGMA user_version` carries its version: opening a
 * database of another version is a SCHEMA_VERSION error, never a silent
 * misreading.
 */
export const SCHEMA_VERSION = 1;

export const SCHEMA = `
CREATE TABLE operations (
  local_seq INTEGER PRIMARY KEY AUTOINCREMENT,
  hash      BLOB NOT NULL UNIQUE,
  author    BLOB NOT NULL,
  log_id    BLOB NOT NULL,
  seq_num   INTEGER NOT NULL,
  header    BLOB NOT NULL,
  body      BLOB,
  UNIQUE (author, log_id, seq_num)
);
CREATE TABLE topic_logs (
  topic  BLOB NOT NULL,
  author BLOB NOT NULL,
  log_id BLOB NOT NULL,
  PRIMARY KEY (topic, author, log_id)
) WITHOUT ROWID;
CREATE TABLE forks (
  author   BLOB NOT NULL,
  log_id   BLOB NOT NULL,
  seq_num  INTEGER NOT NULL,
  header_a BLOB NOT NULL,
  header_b BLOB NOT NULL,
  PRIMARY KEY (author, log_id)
) WITHOUT ROWID;
CREATE TABLE cursors (
  name  TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
`;
