/**
 * Pruning end to end with real node processes on 127.0.0.1 (test/e2e/prune-peer.ts,
 * SQLite stores): an operation published with the prune flag deletes its
 * author's older entries on the author's node, on a peer that gets it live,
 * and on a peer that was away and gets it by sync; a new peer is never sent
 * the pruned entries; a deleted body leaves its header, here and at peers.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ChatProcess, tempDirs, type Line } from '../helpers/chat-process.ts';

const SCRIPT = new URL('./prune-peer.ts', import.meta.url).pathname;
const TOPIC = 'prune-e2e';
const { dirs, cleanup } = tempDirs(6);
const running: ChatProcess[] = [];
after(async () => {
  await Promise.all(running.map((p) => p.kill()));
  cleanup();
});

async function peer(dir: string, bootstrap?: ChatProcess): Promise<ChatProcess> {
  const p = await ChatProcess.script(SCRIPT, [dir, TOPIC, ...(bootstrap ? [bootstrap.address] : [])]);
  running.push(p);
  return p;
}

function command(p: ChatProcess, cmd: object): void {
  p.send(JSON.stringify(cmd));
}

/** Asks for the store's entries of the topic and returns them (author, seqNum, text). */
async function entries(p: ChatProcess): Promise<{ author: string; seqNum: number; text: string | null }[]> {
  const before = p.lines.length;
  command(p, { cmd: 'entries' });
  const line = await p.waitFor((l) => l.type === 'entries' && p.lines.indexOf(l) >= before, 20_000, 'entries');
  return line.entries;
}

const seqsOf = (list: { author: string; seqNum: number }[], author: string) => list.filter((e) => e.author === author).map((e) => e.seqNum);
const eventOf = (author: string, seqNum: number) => (l: Line) => l.type === 'event' && l.author === author && l.seqNum === seqNum;

async function publish(p: ChatProcess, text: string, prune = false): Promise<Line> {
  command(p, { cmd: 'publish', text, prune });
  return p.waitFor((l) => l.type === 'published' && p.lines.some((e) => e.type === 'event' && e.text === text), 20_000, `published ${text}`);
}

test('a prune point deletes the older entries everywhere it is processed; sync never sends them again', async () => {
  const ann = await peer(dirs[0]);
  const a = ann.ready.id as string;
  for (let i = 0; i < 4; i++) await publish(ann, `m${i}`);
  const bob = await peer(dirs[1], ann);
  let dan = await peer(dirs[2], ann);
  await bob.waitFor(eventOf(a, 3), 30_000, 'bob has m0..m3');
  await dan.waitFor(eventOf(a, 3), 30_000, 'dan has m0..m3');
  await dan.kill('SIGTERM');

  // Ann prunes: her own store keeps the prune point on; bob gets it live and deletes too.
  await publish(ann, 'm4 (prune)', true);
  await publish(ann, 'm5');
  assert.deepEqual(seqsOf(await entries(ann), a), [4, 5]);
  await bob.waitFor(eventOf(a, 5), 30_000, 'bob gets m4 and m5');
  assert.deepEqual(seqsOf(await entries(bob), a), [4, 5], 'bob deleted what came before the prune point');

  // Dan was away: he gets the prune point by sync and deletes the old entries he holds.
  dan = await peer(dirs[2], ann);
  await dan.waitFor(eventOf(a, 5), 30_000, 'dan catches up by sync');
  assert.deepEqual(seqsOf(await entries(dan), a), [4, 5], 'dan deleted what came before the prune point');

  // A new peer is sent only what is left, by whichever peer it syncs with.
  const cat = await peer(dirs[3], ann);
  await cat.waitFor(eventOf(a, 5), 30_000, 'cat syncs');
  assert.deepEqual(seqsOf(await entries(cat), a), [4, 5]);
  assert.ok(!cat.lines.some((l) => l.type === 'event' && l.author === a && l.seqNum < 4), 'no pruned entry ever reached cat');
  const syncs = cat.lines.filter((l) => l.type === 'sync');
  assert.ok(syncs.length > 0);
  for (const s of syncs) assert.ok(s.received <= 2, `a sync sent cat ${s.received} operations: only m4 and m5 are left`);
});

test('deleteBody: the body goes, the header stays; a new peer gets the header without the body', async () => {
  const ann = await peer(dirs[4]);
  const a = ann.ready.id as string;
  const first = await publish(ann, 'secret');
  await publish(ann, 'after');
  command(ann, { cmd: 'deleteBody', hash: first.hash });
  const deleted = await ann.waitFor((l) => l.type === 'deletedBody', 20_000, 'deletedBody');
  assert.equal(deleted.deleted, true);
  if (process.env.PRUNE_DEBUG) console.log(JSON.stringify(ann.lines));
  assert.deepEqual(await entries(ann), [
    { author: a, seqNum: 0, text: null },
    { author: a, seqNum: 1, text: 'after' },
  ]);
  const bob = await peer(dirs[5], ann);
  await bob.waitFor(eventOf(a, 1), 30_000, 'bob syncs both entries');
  assert.deepEqual(await entries(bob), [
    { author: a, seqNum: 0, text: null },
    { author: a, seqNum: 1, text: 'after' },
  ]);
});
