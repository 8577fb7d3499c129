/**
 * The data scheme on the real group CRDT (src/auth) through
 * `AuthMembership` and `readerChanges`: the same group runs, the removal,
 * and the hazard, now with the CRDT's strong removal deciding who reads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { topicId } from '../../src/core/index.ts';
import { decodeEnvelope } from '../../src/encryption/envelope.ts';
import { GroupHarness, tryOpen } from './group-harness.ts';

const topic = topicId('walkaway/test/auth-group');

async function group(seed: string, names: string[]): Promise<GroupHarness> {
  const h = new GroupHarness(seed, topic, 'all', 'crdt');
  for (const n of names) h.join(n);
  await h.create(names[0]);
  for (const n of names.slice(1)) await h.auth(names[0], 'add', n);
  await h.settle();
  return h;
}

test('on the group CRDT: members read each other; a removed member reads nothing after', async () => {
  const h = await group('auth-basic', ['alice', 'bob', 'carol']);
  assert.deepEqual(h.get('bob').crdt.readerIds().length, 3);
  const before = await h.say('bob', 'before');
  await h.settle();
  assert.deepEqual(
    ['alice', 'bob', 'carol'].map((n) => tryOpen(h, n, before)),
    ['before', 'before', 'before'],
  );
  await h.auth('alice', 'remove', 'carol');
  await h.settle();
  const after = await h.say('bob', 'after');
  await h.settle();
  assert.equal(tryOpen(h, 'alice', after), 'after');
  assert.equal(tryOpen(h, 'carol', after), 'MISSING_KEY');
  assert.equal(tryOpen(h, 'carol', before), 'before');
});

test('on the group CRDT: the hazard — strong removal undoes the add, and the newcomer never gets a secret', async () => {
  const h = await group('auth-hazard', ['alice', 'bob', 'carol']);
  await h.auth('alice', 'add', 'bob', 'manage'); // a promote in the CRDT
  await h.settle();
  const history = await h.say('carol', 'history');
  await h.settle();
  h.join('mallory');
  await h.auth('alice', 'remove', 'bob');
  await h.auth('bob', 'add', 'mallory'); // concurrent: bob has not seen his removal
  await h.settle();
  for (const n of ['alice', 'carol', 'bob']) {
    assert.ok(!h.get(n).crdt.readerIds().includes(h.get('mallory').hex), `mallory is not a reader in ${n}'s view`);
  }
  const later = await h.say('carol', 'later');
  await h.settle();
  assert.equal(tryOpen(h, 'mallory', history), 'MISSING_KEY');
  assert.equal(tryOpen(h, 'mallory', later), 'MISSING_KEY');
  assert.equal(h.get('mallory').enc.exportState().secrets.size, 0);
  const welcomes = h.log.filter((e) => {
    if (e.kind !== 'body') return false;
    const env = decodeEnvelope(e.body);
    return env.kind === 3 && new TextDecoder().decode(env.message).includes('welcome');
  });
  assert.ok(
    welcomes.every((e) => e.author !== h.get('bob').hex),
    'bob never welcomed anyone',
  );
  assert.equal(tryOpen(h, 'alice', later), 'later');
});

test('on the group CRDT: an add acknowledged by every manager is welcomed with the history', async () => {
  const h = await group('auth-welcome', ['alice', 'bob']);
  await h.auth('alice', 'add', 'bob', 'manage');
  await h.settle();
  const history = await h.say('alice', 'history');
  h.join('erin');
  for (const m of h.members.values()) m.enc.learnBundle(h.get('erin').enc.bundle());
  await h.auth('bob', 'add', 'erin');
  await h.settle();
  assert.equal(tryOpen(h, 'erin', history), 'history');
  const fresh = await h.say('erin', 'hello');
  await h.settle();
  assert.equal(tryOpen(h, 'alice', fresh), 'hello');
});
