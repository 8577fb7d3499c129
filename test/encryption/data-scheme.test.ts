import assert from 'node:assert/strict';
import { test } from 'node:test';
import { topicId } from '../../src/core/index.ts';
import { GroupEncryption } from '../../src/encryption/data-scheme.ts';
import { decodeEnvelope } from '../../src/encryption/envelope.ts';
import { GroupHarness, tryOpen } from './group-harness.ts';

const topic = topicId('walkaway/test/group');

async function group(seed: string, names: string[], history: 'all' | 'from-welcome' = 'all'): Promise<GroupHarness> {
  const h = new GroupHarness(seed, topic, history);
  for (const n of names) h.join(n);
  await h.create(names[0]);
  for (const n of names.slice(1)) await h.auth(names[0], 'add', n);
  await h.settle();
  return h;
}

test('every member reads every member, and all hold the same latest secret', async () => {
  const h = await group('ds-basic', ['alice', 'bob', 'carol', 'dave']);
  const ids = [];
  for (const n of ['alice', 'bob', 'carol', 'dave']) ids.push(await h.say(n, `hello from ${n}`));
  await h.settle();
  for (const reader of ['alice', 'bob', 'carol', 'dave']) {
    assert.deepEqual(
      ids.map((id) => tryOpen(h, reader, id)),
      ['alice', 'bob', 'carol', 'dave'].map((n) => `hello from ${n}`),
      reader,
    );
  }
  const latest = new Set([...h.members.values()].map((m) => m.enc.latestSecretId()));
  assert.equal(latest.size, 1, 'one latest secret everywhere');
  assert.notEqual([...latest][0], undefined);
});

test('concurrent updates converge on one latest secret', async () => {
  const h = await group('ds-concurrent', ['alice', 'bob', 'carol']);
  await h.update('bob');
  await h.update('carol'); // carol has not read bob's update: concurrent
  await h.settle();
  const latest = new Set([...h.members.values()].map((m) => m.enc.latestSecretId()));
  assert.equal(latest.size, 1);
  const id = await h.say('alice', 'after both updates');
  await h.settle();
  assert.equal(tryOpen(h, 'bob', id), 'after both updates');
  assert.equal(tryOpen(h, 'carol', id), 'after both updates');
});

test('post-compromise security after a removal: nothing new opens with the removed state or a stolen old key', async () => {
  const h = await group('ds-remove', ['alice', 'bob', 'carol']);
  const before = await h.say('bob', 'before the removal');
  await h.settle();
  const stolen = h.get('carol').enc.exportState();
  await h.auth('alice', 'remove', 'carol');
  // bob has processed the removal but not alice's new secret yet: he may not seal with anything carol held.
  await h.catchUp(h.get('bob'), h.log.length - 1);
  assert.throws(() => h.get('bob').enc.seal(new Uint8Array([1])), { code: 'MISSING_KEY' });
  await h.settle();
  const after = [await h.say('alice', 'after one'), await h.say('bob', 'after two')];
  await h.update('bob');
  await h.settle();
  after.push(await h.say('alice', 'after the update'));
  await h.settle();
  assert.equal(tryOpen(h, 'carol', before), 'before the removal', 'history stays readable');
  const thief = thiefOf(h, 'carol', stolen);
  await replay(h, thief, 'carol');
  for (const id of after) {
    assert.equal(tryOpen(h, 'bob', id).startsWith('after'), true);
    assert.equal(tryOpen(h, 'carol', id), 'MISSING_KEY', 'removed member');
    assert.throws(() => thief.open(h.get(authorOf(h, id)).key, sealed(h, id)), { code: 'MISSING_KEY' }, 'stolen state');
  }
});

test('post-compromise security after an update: a stolen state reads nothing written after the victim updates', async () => {
  const h = await group('ds-update', ['alice', 'bob', 'carol']);
  const stolen = h.get('bob').enc.exportState();
  const early = await h.say('alice', 'readable by the thief');
  await h.update('bob');
  await h.settle();
  const late = [await h.say('alice', 'after bob updates'), await h.say('carol', 'also after')];
  await h.update('alice');
  await h.settle();
  late.push(await h.say('carol', 'after alice updates too'));
  await h.settle();
  const thief = thiefOf(h, 'bob', stolen);
  await replay(h, thief, 'bob');
  assert.equal(new TextDecoder().decode(thief.open(h.get('alice').key, sealed(h, early))), 'readable by the thief');
  for (const id of late) {
    assert.ok(tryOpen(h, 'bob', id).includes('after'));
    assert.throws(() => thief.open(h.get(authorOf(h, id)).key, sealed(h, id)), { code: 'MISSING_KEY' });
  }
});

for (const policy of ['all', 'from-welcome'] as const) {
  test(`a welcome gives exactly the allowed history (${policy})`, async () => {
    const h = await group(`ds-welcome-${policy}`, ['alice', 'bob'], policy);
    const old = [await h.say('alice', 'old one')];
    await h.update('bob');
    await h.settle();
    old.push(await h.say('bob', 'old two'));
    h.join('erin');
    const erin = h.get('erin');
    // erin's bundle reaches everyone before the add; the existing members learn it from the harness.
    for (const m of h.members.values()) m.enc.learnBundle(erin.enc.bundle());
    await h.auth('alice', 'add', 'erin');
    await h.settle();
    const fresh = [await h.say('alice', 'new one'), await h.say('erin', 'new two')];
    await h.settle();
    const oldTexts = ['old one', 'old two'];
    assert.deepEqual(
      old.map((id) => tryOpen(h, 'erin', id)),
      policy === 'all' ? oldTexts : ['MISSING_KEY', 'MISSING_KEY'],
    );
    assert.deepEqual(
      old.map((id) => tryOpen(h, 'bob', id)),
      oldTexts,
    );
    for (const id of fresh) {
      assert.ok(tryOpen(h, 'erin', id).startsWith('new'));
      assert.ok(tryOpen(h, 'bob', id).startsWith('new'));
    }
  });
}

test('the hazard: a newcomer added by a concurrently removed adder receives no secret', async () => {
  const h = await group('ds-hazard', ['alice', 'bob', 'carol']);
  // bob becomes a manager; then, concurrently, alice removes bob and bob adds mallory.
  await h.auth('alice', 'add', 'bob', 'manage');
  await h.settle();
  const history = await h.say('carol', 'history mallory must not read');
  await h.settle();
  h.join('mallory');
  await h.auth('alice', 'remove', 'bob');
  await h.auth('bob', 'add', 'mallory'); // bob has not seen his removal
  await h.settle();
  const later = await h.say('carol', 'after all that');
  await h.settle();
  const mallory = h.get('mallory');
  assert.equal(tryOpen(h, 'mallory', history), 'MISSING_KEY');
  assert.equal(tryOpen(h, 'mallory', later), 'MISSING_KEY');
  assert.equal(mallory.enc.exportState().secrets.size, 0, 'mallory holds no secret at all');
  const welcomes = h.log.filter((e) => e.kind === 'body' && e.author === h.get('bob').hex && controlType(e.body) === 'welcome');
  assert.equal(welcomes.length, 0, 'bob never welcomed');
  assert.equal(tryOpen(h, 'alice', later), 'after all that');
});

test('without the concurrent removal, the same add is acknowledged and welcomed', async () => {
  const h = await group('ds-hazard-control', ['alice', 'bob', 'carol']);
  await h.auth('alice', 'add', 'bob', 'manage');
  await h.settle();
  const history = await h.say('carol', 'history');
  h.join('mallory');
  for (const m of h.members.values()) m.enc.learnBundle(h.get('mallory').enc.bundle());
  await h.auth('bob', 'add', 'mallory');
  await h.settle();
  assert.equal(tryOpen(h, 'mallory', history), 'history');
});

function sealed(h: GroupHarness, id: number) {
  const e = h.log[id];
  if (e.kind !== 'body') throw new Error('not a body');
  const env = decodeEnvelope(e.body);
  if (env.kind === 3) throw new Error('control');
  return env;
}

function authorOf(h: GroupHarness, id: number): string {
  return [...h.members.values()].find((m) => m.hex === h.log[id].author)!.name;
}

function controlType(body: Uint8Array): string | undefined {
  const env = decodeEnvelope(body);
  if (env.kind !== 3) return undefined;
  return new TextDecoder().decode(env.message).includes('welcome') ? 'welcome' : 'other';
}

/** A member instance restored from a stolen state (same identity, same membership view). */
function thiefOf(h: GroupHarness, name: string, stolen: ReturnType<GroupEncryption['exportState']>): GroupEncryption {
  const victim = h.get(name);
  const config = (victim.enc as unknown as { config: ConstructorParameters<typeof GroupEncryption>[0] }).config;
  return new GroupEncryption({ ...config, membership: victim.membership }, stolen);
}

/** The thief reads every control message since the start, as the victim's copy would (errors ignored). */
async function replay(h: GroupHarness, thief: GroupEncryption, victim: string): Promise<void> {
  const hex = h.get(victim).hex;
  for (const e of h.log) {
    if (e.kind !== 'body' || e.author === hex) continue;
    const env = decodeEnvelope(e.body);
    if (env.kind !== 3) continue;
    try {
      await thief.receive({ author: [...h.members.values()].find((m) => m.hex === e.author)!.key, lamport: e.lamport, message: env.message }, h.now);
    } catch {
      // a message the stolen state cannot read
    }
  }
}

test('a member whose pre-key expired gets no secret until it publishes a fresh bundle', async () => {
  const h = new GroupHarness('ds-expiry', topic);
  for (const n of ['alice', 'bob']) h.join(n);
  await h.create('alice');
  // bob's pre-key (84 days) has run out by the time alice first writes to him.
  h.now += 85 * 24 * 3600_000;
  await h.auth('alice', 'add', 'bob');
  await h.settle();
  const id = await h.say('alice', 'bob cannot read this');
  await h.settle();
  assert.equal(tryOpen(h, 'bob', id), 'MISSING_KEY');
  const attempt = await h.get('alice').enc.update(new Uint8Array(32), h.now);
  assert.deepEqual(
    attempt.failed.map((f) => [f.member, f.error.code]),
    [[h.get('bob').hex, 'KEY_EXPIRED']],
  );
  // A fresh member state for bob (a rotated pre-key), published as a bundle; alice's next update reaches him.
  const fresh = GroupEncryption.create({ ...(h.get('bob').enc as unknown as { config: ConstructorParameters<typeof GroupEncryption>[0] }).config }, h.now);
  h.get('bob').enc = fresh;
  h.get('alice').enc.learnBundle(fresh.bundle());
  await h.update('alice');
  await h.settle();
  const later = await h.say('alice', 'now bob reads');
  await h.settle();
  assert.equal(tryOpen(h, 'bob', later), 'now bob reads');
});
