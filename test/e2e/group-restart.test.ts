/**
 * Group state persistence with real processes on 127.0.0.1: alice and bob
 * share a group-encrypted topic (test/e2e/group-peer.ts). bob is killed
 * (SIGKILL) and restarted from his data directory: with the group state kept
 * there (keys, two-party channels, secrets) he reads what alice writes under
 * the old secret and under a fresh one sent over their channel after the
 * restart, and alice reads what he writes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { topicId } from '../../src/core/index.ts';
import { groupStateFile } from '../../src/encryption/index.ts';
import { BIN, ChatProcess, tempDirs } from '../helpers/chat-process.ts';

const PEER = new URL('./group-peer.ts', import.meta.url).pathname;
const TOPIC = 'group-restart-room';
const { dirs, cleanup } = tempDirs(2);
const running: ChatProcess[] = [];
after(async () => {
  await Promise.all(running.map((p) => p.kill()));
  cleanup();
});

function identity(dir: string): string {
  const out = spawnSync(process.execPath, [BIN, 'id', '--data', dir], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.trim();
}

async function peer(dir: string, readers: string[], bootstrap?: string): Promise<ChatProcess> {
  const p = await ChatProcess.script(PEER, [dir, TOPIC, readers.join(','), readers[0], ...(bootstrap ? [bootstrap] : [])]);
  running.push(p);
  return p;
}

const command = (p: ChatProcess, value: object) => p.send(JSON.stringify(value));
const address = (p: ChatProcess) => (p.ready.addresses as string[]).find((a) => a.includes('127.0.0.1'))!;
/** Waits for the first line after `from` that matches. */
const next = (p: ChatProcess, from: number, match: (l: Record<string, any>) => boolean, what: string) =>
  p.waitFor((l) => p.lines.indexOf(l) >= from && match(l), 60_000, what);

test('a member restarted from its data directory still reads and writes the group-encrypted topic', async () => {
  const readers = [identity(dirs[0]), identity(dirs[1])];
  const alice = await peer(dirs[0], readers);
  let bob = await peer(dirs[1], readers, address(alice));
  assert.equal(bob.ready.restored, false);

  // Both bundles arrive on the topic; then alice draws the first secret for both.
  await alice.waitFor((l) => l.type === 'group' && l.bundles === 2, 60_000, "bob's bundle at alice");
  command(alice, { cmd: 'create' });
  const first = await bob.waitFor((l) => l.type === 'group' && l.secret !== null, 60_000, 'the first secret at bob');
  command(alice, { cmd: 'send', text: 'before the restart' });
  await bob.waitFor((l) => l.type === 'message' && l.text === 'before the restart', 60_000, 'the first message');

  const file = groupStateFile(dirs[1], topicId(TOPIC));
  assert.equal(statSync(file).mode & 0o777, 0o600, 'the group state is readable by its owner only');
  assert.equal(readFileSync(file).indexOf(Buffer.from('before the restart')), -1);

  await bob.kill('SIGKILL');
  running.splice(running.indexOf(bob), 1);
  bob = await peer(dirs[1], readers, address(alice));
  assert.equal(bob.ready.restored, true, 'the state comes from the data directory');
  const status = await bob.waitFor((l) => l.type === 'group', 10_000, 'the restored state');
  assert.equal(status.secret, first.secret, 'the same secret seals after the restart');

  // Under the secret from before the restart.
  command(alice, { cmd: 'send', text: 'while bob restarted' });
  await bob.waitFor((l) => l.type === 'message' && l.text === 'while bob restarted', 60_000, 'a message under the old secret');
  // A fresh secret over the two-party channel, whose keys bob kept.
  const mark = alice.lines.length;
  command(alice, { cmd: 'update' });
  const updated = await next(alice, mark, (l) => l.type === 'group' && l.secret !== null && l.secret !== first.secret, 'the fresh secret at alice');
  await bob.waitFor((l) => l.type === 'group' && l.secret === updated.secret, 60_000, 'the fresh secret at bob');
  command(alice, { cmd: 'send', text: 'under the fresh secret' });
  await bob.waitFor((l) => l.type === 'message' && l.text === 'under the fresh secret', 60_000, 'a message under the fresh secret');
  command(bob, { cmd: 'send', text: 'bob is back' });
  await alice.waitFor((l) => l.type === 'message' && l.text === 'bob is back', 60_000, "bob's message at alice");
  for (const p of [alice, bob]) assert.equal(p.lines.filter((l) => l.type === 'error').length, 0, JSON.stringify(p.lines.filter((l) => l.type === 'error')));
  // Bodies rest sealed in both stores.
  for (const dir of dirs) assert.equal(readFileSync(join(dir, 'store.db')).indexOf(Buffer.from('under the fresh secret')), -1);
});
