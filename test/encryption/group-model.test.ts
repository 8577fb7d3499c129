/**
 * Model-based test of the data scheme (fast-check, seeded): random runs of
 * adds, removes, updates and messages, with members reading the log at
 * different paces so that messages and updates are concurrent. Membership
 * changes settle before the next command (the group CRDT's concurrency is
 * the hazard test's business). Afterwards, for every message, exactly the
 * members that read at the time it was sealed, and (history 'all') those
 * added later, can open it; nobody removed before it was sealed can; and
 * every member agrees on the latest secret.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { topicId } from '../../src/core/index.ts';
import { GroupHarness, tryOpen } from './group-harness.ts';

const NAMES = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'];

type Command =
  | { type: 'say'; who: number }
  | { type: 'update'; who: number }
  | { type: 'lag'; who: number }
  | { type: 'add'; who: number }
  | { type: 'remove'; who: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ type: fc.constant('say' as const), who: fc.nat(5) }), weight: 4 },
  { arbitrary: fc.record({ type: fc.constant('update' as const), who: fc.nat(5) }), weight: 2 },
  { arbitrary: fc.record({ type: fc.constant('lag' as const), who: fc.nat(5) }), weight: 2 },
  { arbitrary: fc.record({ type: fc.constant('add' as const), who: fc.integer({ min: 3, max: 5 }) }), weight: 2 },
  { arbitrary: fc.record({ type: fc.constant('remove' as const), who: fc.integer({ min: 1, max: 5 }) }), weight: 2 },
);

const checked = { messages: 0, byHistory: 0, removedOrLate: 0 };

async function runModel(commands: Command[], seed: string): Promise<void> {
  const h = new GroupHarness(seed, topicId('walkaway/test/model'), 'all');
  for (const n of NAMES) h.join(n);
  await h.create('m0');
  for (const n of ['m1', 'm2']) await h.auth('m0', 'add', n);
  await h.settle();
  const readers = new Set(['m0', 'm1', 'm2']);
  const everAdded = new Set(readers);
  /** How many messages existed when each member was added: with history 'all' it reads those too. */
  const addedAfter = new Map<string, number>();
  /** Messages: entry id, and who read when it was sealed. */
  const messages: { id: number; readersThen: Set<string> }[] = [];
  for (const c of commands) {
    const name = NAMES[c.who];
    if (c.type === 'add' && !readers.has(name) && !everAdded.has(name)) {
      // A member is added at most once in this model (a re-add is the CRDT's concern).
      await h.auth('m0', 'add', name);
      readers.add(name);
      everAdded.add(name);
      addedAfter.set(name, messages.length);
      await h.settle();
    } else if (c.type === 'remove' && readers.has(name)) {
      await h.auth('m0', 'remove', name);
      readers.delete(name);
      await h.settle();
    } else if (c.type === 'update' && readers.has(name)) {
      await h.update(name);
    } else if (c.type === 'say' && readers.has(name)) {
      const id = await h.say(name, `message ${messages.length} by ${name}`);
      messages.push({ id, readersThen: new Set(readers) });
    } else if (c.type === 'lag') {
      // Everyone but `name` reads everything now: `name` stays behind until the next settle.
      for (const m of h.members.values()) if (m.name !== name) await h.catchUp(m);
    }
  }
  await h.settle();
  for (const [index, { id, readersThen }] of messages.entries()) {
    const text = tryOpen(h, [...readersThen][0], id);
    assert.match(text, /^message /);
    checked.messages++;
    for (const n of NAMES) {
      const got = tryOpen(h, n, id);
      const mayRead = readersThen.has(n) || (addedAfter.get(n) ?? -1) > index;
      if (!readersThen.has(n) && mayRead) checked.byHistory++;
      if (!mayRead && everAdded.has(n)) checked.removedOrLate++;
      if (mayRead) assert.equal(got, text, `${n} reads entry ${id}`);
      else assert.equal(got, 'MISSING_KEY', `${n} must not read entry ${id}`);
    }
  }
  const latest = new Set([...readers].map((n) => h.get(n).enc.latestSecretId()));
  assert.equal(latest.size, 1, 'every reader seals under the same secret');
}

test('model: exactly the members allowed can open each message, under concurrent updates and messages', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 8, maxLength: 24 }), fc.nat(1_000_000), (commands, seed) => runModel(commands, `model-${seed}`)),
    { numRuns: 16, seed: 20261206, endOnFailure: true },
  );
  // The runs did reach the interesting cases.
  assert.ok(checked.messages > 20, `messages checked: ${checked.messages}`);
  assert.ok(checked.byHistory > 0, `reads through a welcome's history: ${checked.byHistory}`);
  assert.ok(checked.removedOrLate > 0, `refusals to removed members: ${checked.removedOrLate}`);
});
