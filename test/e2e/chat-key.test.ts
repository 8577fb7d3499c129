/**
 * Keyed chat rooms with real `walkaway chat` processes on 127.0.0.1: two
 * chats with the same --key talk; a third node without the key carries the
 * topic but stores only ciphertext and shows nothing; a ticket with the key
 * lets a newcomer read the history, and a restart keeps reading (the key is
 * kept in the data directory, mode 0600).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { toHex, topicId } from '../../src/core/index.ts';
import { decodeTicket } from '../../src/node/index.ts';
import { BIN, ChatProcess, tempDirs } from '../helpers/chat-process.ts';
import { until } from '../helpers/wait.ts';

const { dirs, cleanup } = tempDirs(6);
const running: ChatProcess[] = [];
after(async () => {
  await Promise.all(running.map((p) => p.kill()));
  cleanup();
});

const ROOM = 'keyed-room';
const KEY = 'a1'.repeat(32);
const SECRETS = ['the door code is 4711', 'meet at the old mill'];

async function chat(topic: string, dir: string, extra: string[] = []): Promise<ChatProcess> {
  const p = await ChatProcess.chat(topic, dir, extra);
  running.push(p);
  return p;
}

/** Operations of the room in a node's SQLite store, read while it runs (WAL). */
function storedBodies(dir: string): Buffer[] {
  const db = new Database(join(dir, 'store.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT body FROM operations').all() as { body: Buffer | null }[]).map((r) => r.body ?? Buffer.alloc(0));
  } finally {
    db.close();
  }
}

test('two chats with the same --key talk; a node without the key stores only ciphertext and shows nothing', async () => {
  const alice = await chat(ROOM, dirs[0], ['--name', 'alice', '--key', KEY]);
  assert.equal(alice.ready.encryption, 'topic-key');
  const bob = await chat(ROOM, dirs[1], ['--name', 'bob', '--key', KEY.toUpperCase(), '--bootstrap', alice.address]);
  const carol = await chat(ROOM, dirs[2], ['--name', 'carol', '--bootstrap', alice.address]);
  assert.equal(carol.ready.encryption, null);
  await alice.waitFor((l) => l.type === 'peer' && l.peer === bob.ready.id, 20_000, 'bob connected');
  alice.send(SECRETS[0]);
  bob.send(SECRETS[1]);
  await alice.waitForTexts(SECRETS);
  await bob.waitForTexts(SECRETS);
  assert.equal(bob.messages().find((m) => m.text === SECRETS[0])!.name, 'alice');

  // carol carries the topic: both operations reach her store, as ciphertext.
  await until(() => storedBodies(dirs[2]).length >= 2, "both operations in carol's store");
  for (const dir of [dirs[0], dirs[1], dirs[2]]) {
    const db = readFileSync(join(dir, 'store.db'));
    for (const secret of SECRETS) assert.equal(db.indexOf(Buffer.from(secret)), -1, `"${secret}" in clear in ${dir}`);
  }
  for (const body of storedBodies(dirs[2])) assert.equal(body[0], 1, 'a sealed body (version 1)');
  assert.deepEqual(carol.messages(), [], 'carol shows nothing');
});

test('a ticket with the key lets a newcomer read the history; a restart keeps reading without --key', async () => {
  const [alice] = running;
  const ticket = decodeTicket(alice.ready.ticket);
  assert.deepEqual(ticket.key, new Uint8Array(Buffer.from(KEY, 'hex')), "the chat's ticket carries the key");
  assert.deepEqual(ticket.topic, topicId(ROOM));

  const dave = await chat(alice.ready.ticket, dirs[3], ['--name', 'dave', '--bootstrap', alice.address]);
  assert.equal(dave.ready.encryption, 'topic-key');
  await dave.waitForTexts(SECRETS);
  const file = join(dirs[3], 'topic-keys', toHex(topicId(ROOM)));
  assert.equal(statSync(file).mode & 0o777, 0o600, 'the kept key is readable by its owner only');
  assert.equal(statSync(join(dirs[3], 'topic-keys')).mode & 0o777, 0o700);
  await dave.kill();

  // Restarted by the room's name, without --key: the kept key opens what arrives.
  const again = await chat(ROOM, dirs[3], ['--name', 'dave', '--bootstrap', alice.address]);
  assert.equal(again.ready.encryption, 'topic-key');
  alice.send('after dave came back');
  await again.waitForTexts(['after dave came back']);
  again.send('dave here');
  await alice.waitForTexts(['dave here']);
});

test('walkaway ticket --key or --key-file puts the key in the ticket; a bad or conflicting key exits 2 with one line', () => {
  const out = spawnSync(process.execPath, [BIN, 'ticket', ROOM, '--data', dirs[4], '--port', '4999', '--key', KEY], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(out.status, 0, out.stderr);
  assert.deepEqual(decodeTicket(out.stdout.trim()).key, new Uint8Array(Buffer.from(KEY, 'hex')));
  // The key kept by dave's chat goes into his tickets without --key.
  const kept = spawnSync(process.execPath, [BIN, 'ticket', ROOM, '--data', dirs[3]], { encoding: 'utf8', timeout: 30_000 });
  assert.deepEqual(decodeTicket(kept.stdout.trim()).key, new Uint8Array(Buffer.from(KEY, 'hex')));
  const plain = spawnSync(process.execPath, [BIN, 'ticket', 'other-room', '--data', dirs[4]], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(decodeTicket(plain.stdout.trim()).key, undefined);

  // --key-file keeps the key out of the process list: hex with a line ending, or 32 raw bytes.
  const hexFile = join(dirs[5], 'room.key');
  const rawFile = join(dirs[5], 'room.bin');
  mkdirSync(dirs[5], { recursive: true });
  writeFileSync(hexFile, `${KEY}\n`);
  writeFileSync(rawFile, Buffer.from(KEY, 'hex'));
  for (const file of [hexFile, rawFile]) {
    const fromFile = spawnSync(process.execPath, [BIN, 'ticket', ROOM, '--data', dirs[4], '--key-file', file], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(fromFile.status, 0, fromFile.stderr);
    assert.deepEqual(decodeTicket(fromFile.stdout.trim()).key, new Uint8Array(Buffer.from(KEY, 'hex')));
  }
  writeFileSync(join(dirs[5], 'short.key'), 'abcd\n');

  const bad = [
    ['chat', ROOM, '--key-file', join(dirs[5], 'missing.key')],
    ['chat', ROOM, '--key-file', join(dirs[5], 'short.key')],
    ['ticket', ROOM, '--key', KEY, '--key-file', hexFile],
    ['chat', ROOM, '--key', 'abc'],
    ['chat', ROOM, '--key', 'zz'.repeat(32)],
    ['ticket', ROOM, '--key', 'nope'],
    // dave's data directory keeps another key for the room
    ['chat', ROOM, '--key', 'b2'.repeat(32), '--data', dirs[3]],
  ];
  for (const args of bad) {
    const withData = args.includes('--data') ? args : [...args, '--data', dirs[5]];
    const r = spawnSync(process.execPath, [BIN, ...withData], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, `${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /^walkaway: .*key/);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
});
