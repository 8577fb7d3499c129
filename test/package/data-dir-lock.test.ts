/**
 * One node per data directory: the `lock` file of src/data-dir.ts, taken by
 * Node.create({ dataDir }) and openDataDir, released by close(); a stale
 * lock (its process dead) is taken over; a second `walkaway chat` on the
 * same directory exits 3 with one line, over real processes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isWalkawayError } from '../../src/core/index.ts';
import { lockDataDir, openDataDir } from '../../src/node/data-dir.ts';
import { Node } from '../../src/node/index.ts';
import { BIN, ChatProcess } from '../helpers/chat-process.ts';

const root = mkdtempSync(join(tmpdir(), 'walkaway-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `d${n++}`);
const lockedError = (err: unknown) => isWalkawayError(err, 'LOCKED');
const pidOfLock = (dir: string) => Number(readFileSync(join(dir, 'lock'), 'utf8').split('\n')[0]);

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

test('a data directory is locked once per process, until release', () => {
  const dir = freshDir();
  const lock = lockDataDir(dir);
  assert.equal(pidOfLock(dir), process.pid);
  assert.throws(() => lockDataDir(dir), lockedError);
  assert.throws(() => openDataDir(dir), lockedError);
  lock.release();
  lock.release();
  assert.equal(existsSync(join(dir, 'lock')), false);
  const opened = openDataDir(dir);
  assert.throws(() => lockDataDir(dir), lockedError);
  opened.close();
  lockDataDir(dir).release();
});

test('Node.create({ dataDir }) takes the lock and close() releases it', async () => {
  const dir = freshDir();
  const options = { dataDir: dir, mdns: false, listen: ['/ip4/127.0.0.1/tcp/0'] };
  const a = await Node.create(options);
  await assert.rejects(Node.create(options), lockedError);
  await assert.rejects(Node.create({ ...options, storage: 'memory' }), lockedError);
  const id = a.id;
  await a.close();
  assert.equal(existsSync(join(dir, 'lock')), false);
  const again = await Node.create(options);
  assert.equal(again.id, id, 'the same identity, now alone on its directory');
  await again.close();
});

test('a stale lock (dead pid, this pid reused, garbage) is taken over', () => {
  for (const stale of [`${deadPid()}\nabc\n`, `${process.pid}\nfrom-a-previous-run\n`, '', 'not a pid']) {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'lock'), stale);
    const lock = lockDataDir(dir);
    assert.equal(pidOfLock(dir), process.pid, JSON.stringify(stale));
    lock.release();
  }
});

test('a lock held by a live process is respected', () => {
  const dir = freshDir();
  mkdirSync(dir, { recursive: true });
  // The parent of this test process is alive for as long as the test runs.
  writeFileSync(join(dir, 'lock'), `${process.ppid}\nother\n`);
  assert.throws(
    () => lockDataDir(dir),
    (err: unknown) => lockedError(err) && (err as Error).message.includes(String(process.ppid)),
  );
});

test('a second walkaway chat on the same data directory exits 3 with one line', async () => {
  const dir = freshDir();
  const first = await ChatProcess.chat('lock-topic', dir);
  try {
    const second = spawnSync(process.execPath, [BIN, 'chat', 'lock-topic', '--json', '--no-mdns', '--port', '0', '--data', dir], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(second.status, 3, second.stderr);
    assert.equal(second.stdout, '');
    const lines = second.stderr.trim().split('\n');
    assert.equal(lines.length, 1, second.stderr);
    assert.match(lines[0], new RegExp(`^walkaway: LOCKED: data directory .* is in use by process ${first.child.pid}`));
  } finally {
    await first.kill('SIGTERM');
  }
  assert.equal(existsSync(join(dir, 'lock')), false, 'SIGTERM released the lock');
  // A killed process leaves its lock behind; the next start takes it over.
  const killed = await ChatProcess.chat('lock-topic', dir);
  await killed.kill('SIGKILL');
  assert.equal(pidOfLock(dir), killed.child.pid);
  const next = await ChatProcess.chat('lock-topic', dir);
  assert.equal(next.ready.id, killed.ready.id);
  await next.kill('SIGTERM');
});
