import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { isWalkawayError } from '../../src/core/index.ts';
import { openStore, SqliteStore } from '../../src/store/index.ts';
import { runStoreContract } from '../contract/store.ts';
import { keyFor, logIdFor, makeLog } from '../helpers/ops.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'walkaway-sqlite-'));
}

runStoreContract('sqlite', () => {
  const dir = tempDir();
  return { store: SqliteStore.open(join(dir, 'store.db')), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});

test('sqlite: operations, topics, forks and cursors persist across reopen', () => {
  const dir = tempDir();
  const path = join(dir, 'store.db');
  try {
    const topic = new Uint8Array(32).fill(1);
    const ops = makeLog(keyFor(1), 5);
    let store = SqliteStore.open(path);
    for (const op of ops) store.ingest(op, topic);
    store.setCursor('c', new Uint8Array([9]));
    store.close();
    store = SqliteStore.open(path);
    assert.equal(store.heights(topic)[0].seqNum, 4);
    assert.deepEqual(store.getCursor('c'), new Uint8Array([9]));
    assert.equal(store.ingest(makeLog(keyFor(1), 6)[5], topic).status, 'inserted');
    assert.equal(store.ingest(ops[2], topic).status, 'duplicate');
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: a database of another schema version is a clear error', () => {
  const dir = tempDir();
  const path = join(dir, 'store.db');
  try {
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.exec('CREATE TABLE something (x)');
    db.close();
    assert.throws(
      () => SqliteStore.open(path),
      (err) => isWalkawayError(err, 'SCHEMA_VERSION') && err.data.found === 99,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: a foreign database without a version is refused, not overwritten', () => {
  const dir = tempDir();
  const path = join(dir, 'store.db');
  try {
    const db = new Database(path);
    db.exec('CREATE TABLE notes (text)');
    db.close();
    assert.throws(
      () => SqliteStore.open(path),
      (err) => isWalkawayError(err, 'SCHEMA_VERSION'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: a big log pages with bounded reads', () => {
  const store = SqliteStore.open(':memory:');
  const ops = makeLog(keyFor(4), 300, { logId: logIdFor(1) });
  store.ingestBatch(ops.map((operation) => ({ operation })));
  let after = -1;
  let seen = 0;
  for (;;) {
    const page = store.readLog(keyFor(4).publicKey, logIdFor(1), after, 64);
    if (page.length === 0) break;
    assert.ok(page.length <= 64);
    seen += page.length;
    after = page[page.length - 1].header.seqNum;
  }
  assert.equal(seen, 300);
  store.close();
});

test('sqlite: commits are durable by default (WAL with synchronous=FULL); normal is an option', () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'store.db');
    const ops = makeLog(keyFor(5), 3, { logId: logIdFor(2) });
    let store = SqliteStore.open(path);
    assert.deepEqual(store.pragmas(), { journalMode: 'wal', synchronous: 'full' });
    store.ingest(ops[0]);
    store.close();
    // The level belongs to the connection: the same file opens in either mode.
    store = SqliteStore.open(path, { durability: 'normal' });
    assert.deepEqual(store.pragmas(), { journalMode: 'wal', synchronous: 'normal' });
    store.ingestBatch(ops.slice(1).map((operation) => ({ operation })));
    store.close();
    const viaOpenStore = openStore({ storage: 'sqlite', path });
    assert.ok(viaOpenStore instanceof SqliteStore);
    assert.equal(viaOpenStore.pragmas().synchronous, 'full');
    assert.equal(viaOpenStore.readLog(keyFor(5).publicKey, logIdFor(2), -1, 10).length, 3, 'what either mode committed is there');
    viaOpenStore.close();
    const fast = openStore({ storage: 'sqlite', path, durability: 'normal' }) as SqliteStore;
    assert.equal(fast.pragmas().synchronous, 'normal');
    fast.close();
    // Other authors' operations commit without a sync of their own; the
    // connection is back to syncing every commit right after.
    const relaxed = SqliteStore.open(path);
    const others = makeLog(keyFor(6), 2);
    assert.deepEqual(
      relaxed.ingestBatch([{ operation: others[0] }], { durable: false }).map((o) => o.status),
      ['inserted'],
    );
    assert.equal(relaxed.pragmas().synchronous, 'full');
    relaxed.ingest(others[1]);
    assert.equal(relaxed.readLog(keyFor(6).publicKey, logIdFor(1), -1, 10).length, 2);
    relaxed.close();
    assert.throws(
      () => SqliteStore.open(path, { durability: 'off' as 'full' }),
      (err) => isWalkawayError(err, 'INVALID_ARGUMENT'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
