/**
 * A node's data directory (default ~/.walkaway): its identity (an Ed25519
 * seed in `identity.key`, mode 0600) and its SQLite store (`store.db`).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createOperation, PrivateKey, WalkawayError, type Operation } from './core/index.ts';
import { SqliteStore } from './store/index.ts';

export interface DataDir {
  path: string;
  privateKey: PrivateKey;
  store: SqliteStore;
  /** The next operation of this identity's log `logId`, after `previous`. */
  createOperation(args: { body?: Uint8Array; logId: Uint8Array; previous?: Operation; timestamp: number }): Operation;
  close(): void;
}

export function defaultDataDir(): string {
  return join(homedir(), '.walkaway');
}

export function loadIdentity(path: string): PrivateKey {
  const file = join(path, 'identity.key');
  if (existsSync(file)) {
    const seed = readFileSync(file);
    if (seed.length !== 32) throw new WalkawayError('MALFORMED', `${file} must hold a 32-byte Ed25519 seed, found ${seed.length} bytes`);
    return PrivateKey.fromBytes(new Uint8Array(seed));
  }
  const key = PrivateKey.generate();
  writeFileSync(file, key.toBytes(), { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}

export function openDataDir(path: string = defaultDataDir()): DataDir {
  const dir = resolve(path);
  mkdirSync(dir, { recursive: true });
  const privateKey = loadIdentity(dir);
  const store = SqliteStore.open(join(dir, 'store.db'));
  return {
    path: dir,
    privateKey,
    store,
    createOperation: ({ body, logId, previous, timestamp }) =>
      createOperation({
        privateKey,
        body,
        seqNum: previous ? previous.header.seqNum + 1 : 0,
        backlink: previous?.hash,
        extensions: { variant: 'basic', logId, timestamp, pruneFlag: false },
      }),
    close: () => store.close(),
  };
}
