/**
 * ChatSession over real nodes on 127.0.0.1: presence with injected time, and
 * "seen by others" surviving a restart (kept in the SQLite store).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ChatSession, type ChatEvent } from '../../src/cli/chat-session.ts';
import { PRESENCE_EXPIRY_MS, PRESENCE_SWEEP_MS } from '../../src/cli/presence.ts';
import { tempDirs } from '../helpers/chat-process.ts';

const { dirs, cleanup } = tempDirs(2);
after(cleanup);

const base = { storage: 'sqlite' as const, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false };

function waitForEvent(chat: ChatSession, match: (e: ChatEvent) => boolean, what: string, timeoutMs = 60_000): Promise<ChatEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    const on = (e: ChatEvent) => {
      if (!match(e)) return;
      clearTimeout(timer);
      chat.off('event', on);
      resolve(e);
    };
    chat.on('event', on);
  });
}

test('presence with injected time: online at the first heartbeat, offline after the expiry, "none yet" until then', async () => {
  let now = 1_000_000;
  const chat = await ChatSession.start({ ...base, topic: 'presence-clock', name: 'ann', dataDir: dirs[0], now: () => now });
  try {
    const events: ChatEvent[] = [];
    chat.on('event', (e: ChatEvent) => e.type === 'presence' && events.push(e));
    assert.equal(chat.everSeen, false, '"none yet"');
    chat.heardPresence('b'.repeat(64), 'bob');
    assert.deepEqual(events.at(-1), { type: 'presence', author: 'b'.repeat(64), name: 'bob', online: true, here: [{ id: 'b'.repeat(64), name: 'bob' }] });
    now += PRESENCE_EXPIRY_MS - PRESENCE_SWEEP_MS;
    chat.sweepPresence();
    assert.equal(events.length, 1, 'still online before the expiry');
    now += PRESENCE_SWEEP_MS;
    chat.sweepPresence();
    assert.deepEqual(events.at(-1), { type: 'presence', author: 'b'.repeat(64), name: 'bob', online: false, here: [] });
    assert.deepEqual(chat.online(), []);
    assert.equal(chat.everSeen, true, '"no one online" from now on');
    assert.equal(chat.snapshot().everSeen, true);
  } finally {
    await chat.close();
  }
});

test('own messages seen by a peer stay seen after a restart', async () => {
  let ann = await ChatSession.start({ ...base, topic: 'seen-restart', name: 'ann', dataDir: dirs[0] });
  const written = waitForEvent(ann, (e) => e.type === 'message' && e.text === 'written alone', 'own message');
  await ann.send('written alone');
  assert.equal((await written).seen, false, 'nobody holds it yet');
  assert.equal(ann.seenUpTo, -1);
  const seen = waitForEvent(ann, (e) => e.type === 'seen', 'seen');
  const bob = await ChatSession.start({ ...base, topic: 'seen-restart', name: 'bob', dataDir: dirs[1], bootstrap: [ann.node.addresses[0]] });
  try {
    await seen;
    assert.equal(ann.seenUpTo, 0, 'bob holds seqNum 0 of our log');
    await ann.close();
    ann = await ChatSession.start({ ...base, topic: 'seen-restart', name: 'ann', dataDir: dirs[0] });
    assert.equal(ann.seenUpTo, 0, 'still known after the restart');
  } finally {
    await bob.close();
    await ann.close();
  }
});
