/**
 * A node's data directory (default ~/.walkaway): its identity (an Ed25519
 * seed in `identity.key`, mode 0600), its SQLite store (`store.db`) and a
 * `lock` file that keeps a second process (or a second node in this one)
 * from starting as the same identity on the same store.
 */
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createOperation, PrivateKey, WalkawayError, type Operation } from '../core/index.ts';
import { SqliteStore } from '../store/index.ts';

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

export interface DataDirLock {
  /** The lock file. */
  file: string;
  /** Removes the lock file (if it is still this lock's); idempotent. */
  release(): void;
}

/** Lock files this process holds, with their contents. */
const held = new Map<string, string>();
let releaseOnExit = false;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOrEmpty(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Takes the data directory's lock: the file `lock`, holding this process's
 * pid, made with link(2) from a complete temporary file so that it never
 * exists half-written and exactly one process can create it. A lock whose
 * process is dead (or is this process's pid but not held here: a pid reused
 * after a restart) is stale and taken over. Throws WalkawayError LOCKED when
 * another live process, or another node of this process, holds it.
 */
export function lockDataDir(path: string): DataDirLock {
  const dir = resolve(path);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'lock');
  const token = randomBytes(8).toString('hex');
  const content = `${process.pid}\n${token}\n`;
  const temp = `${file}.${token}`;
  const locked = (pid: number | string) =>
    new WalkawayError('LOCKED', `data directory ${dir} is in use by process ${pid} (if that is no walkaway, remove ${file})`, { path: dir, pid });
  if (held.has(file)) throw locked(process.pid);
  writeFileSync(temp, content, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(temp, file);
        held.set(file, content);
        if (!releaseOnExit) {
          releaseOnExit = true;
          process.once('exit', () => {
            for (const [f, c] of held) {
              try {
                release(f, c);
              } catch {
                // Leaving anyway: the next start sees a dead pid.
              }
            }
          });
        }
        return { file, release: () => release(file, content) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const existing = readOrEmpty(file);
      if (existing === undefined) continue; // released meanwhile
      const pid = Number(existing.split('\n')[0]);
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw locked(pid);
      // Stale: move it aside atomically, and put it back if a live lock
      // replaced it between the read and the rename.
      const aside = `${file}.stale-${token}`;
      try {
        renameSync(file, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if (readOrEmpty(aside) !== existing) {
        try {
          linkSync(aside, file);
        } catch {
          // Another process locked it meanwhile: the next attempt sees that.
        }
      }
      unlinkSync(aside);
    }
    throw locked(readOrEmpty(file)?.split('\n')[0] ?? 'unknown');
  } finally {
    unlinkSync(temp);
  }
}

function release(file: string, content: string): void {
  if (held.get(file) !== content) return;
  held.delete(file);
  if (readOrEmpty(file) === content) unlinkSync(file);
}

/** Opens (or creates) a data directory and locks it until close(). */
export function openDataDir(path: string = defaultDataDir()): DataDir {
  const dir = resolve(path);
  const lock = lockDataDir(dir);
  try {
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
      close: () => {
        store.close();
        lock.release();
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}
