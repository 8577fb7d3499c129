/**
 * The SQLite schema. `PRAGMA user_version` carries its version: opening a
 * database of another version is a SCHEMA_VERSION error, never a silent
 * misreading. Logs get a small integer `log_ref` so that the per-operation
 * indexes stay small.
 */
export const SCHEMA_VERSION = 1;

export const SCHEMA = `
CREATE TABLE logs (
  log_ref INTEGER PRIMARY KEY,
  author  BLOB NOT NULL,
  log_id  BLOB NOT NULL,
  UNIQUE (author, log_id)
);
CREATE TABLE operations (
  local_seq INTEGER PRIMARY KEY AUTOINCREMENT,
  hash      BLOB NOT NULL UNIQUE,
  log_ref   INTEGER NOT NULL REFERENCES logs (log_ref),
  seq_num   INTEGER NOT NULL,
  header    BLOB NOT NULL,
  body      BLOB,
  UNIQUE (log_ref, seq_num)
);
CREATE TABLE topic_logs (
  topic   BLOB NOT NULL,
  log_ref INTEGER NOT NULL REFERENCES logs (log_ref),
  PRIMARY KEY (topic, log_ref)
) WITHOUT ROWID;
CREATE TABLE forks (
  log_ref  INTEGER PRIMARY KEY REFERENCES logs (log_ref),
  seq_num  INTEGER NOT NULL,
  header_a BLOB NOT NULL,
  header_b BLOB NOT NULL
);
CREATE TABLE cursors (
  name  TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
`;
