import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plural } from '../../src/cli/chat.ts';
import { MAX_PRESENT, PRESENCE_EXPIRY_MS, PRESENCE_HEARTBEAT_MS, PRESENCE_SWEEP_MS, PresenceTable } from '../../src/cli/presence.ts';

test('presence: heartbeats every ~1.5 s, offline within 5 s of the last one', () => {
  assert.ok(PRESENCE_EXPIRY_MS + PRESENCE_SWEEP_MS <= 5000, 'expiry plus the sweep interval is at most 5 s');
  assert.ok(PRESENCE_EXPIRY_MS >= 2 * PRESENCE_HEARTBEAT_MS, 'a lost heartbeat does not make a peer offline');
  const table = new PresenceTable();
  assert.equal(table.everSeen, false);
  assert.equal(table.heard('a', 'ann', 0), true, 'a new peer is news');
  assert.equal(table.heard('a', 'ann', PRESENCE_HEARTBEAT_MS), false, 'its next heartbeat is not');
  assert.equal(table.heard('b', 'bob', 1000), true);
  assert.equal(table.everSeen, true);
  // Sweeps at the sweep interval, as the chat session does.
  const wentOffline: Record<string, number> = {};
  for (let now = 0; now <= 20_000; now += PRESENCE_SWEEP_MS) {
    if (now <= 6000 && now % PRESENCE_HEARTBEAT_MS === 0) table.heard('a', 'ann', now); // ann beats until 6 s
    for (const gone of table.expire(now)) wentOffline[gone.id] = now;
  }
  assert.ok(wentOffline.b > 1000 && wentOffline.b - 1000 <= 5000, `bob offline ${wentOffline.b - 1000} ms after his last heartbeat`);
  assert.ok(wentOffline.a > 6000 && wentOffline.a - 6000 <= 5000, `ann offline ${wentOffline.a - 6000} ms after her last heartbeat`);
  assert.deepEqual(table.online(), []);
  assert.equal(table.everSeen, true, '"no one online", not "none yet", once a peer was seen');
  assert.equal(table.heard('a', 'ann', 21_000), true, 'coming back is news again');
});

test('presence: a renamed peer is news; the table is bounded', () => {
  const table = new PresenceTable();
  table.heard('a', 'ann', 0);
  assert.equal(table.heard('a', 'anne', 1), true);
  assert.deepEqual(table.online(), [{ id: 'a', name: 'anne' }]);
  for (let i = 0; i < MAX_PRESENT + 10; i++) table.heard(`p${i}`, 'x', 10 + i);
  assert.equal(table.online().length, MAX_PRESENT);
  assert.ok(!table.online().some((p) => p.id === 'a'), 'the longest unheard is dropped first');
});

test('plurals', () => {
  assert.equal(plural(1, 'new operation'), '1 new operation');
  assert.equal(plural(2, 'new operation'), '2 new operations');
  assert.equal(plural(0, 'new operation'), '0 new operations');
});
