/**
 * The message scheme's scenarios from the DCGKA paper (Weidner et al., CCS
 * 2021): create, update, add, remove; concurrent add and remove, concurrent
 * updates, an add concurrent with the removal of the adder. Each asserts
 * exactly who opens each message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Net } from './harness.ts';

async function founded(seed: string, names: string[]): Promise<Net> {
  const net = new Net(seed);
  for (const n of names) net.join(n);
  await net.create(names[0], names);
  await net.syncAll();
  return net;
}

test('message scheme: every member opens every message of the group, each once', async () => {
  const net = await founded('basic', ['a', 'b', 'c']);
  net.join('x'); // never added
  const m1 = net.say('a', 'hello');
  const m2 = net.say('b', 'hi');
  const m3 = net.say('a', 'again');
  await net.syncAll();
  assert.deepEqual(net.readers(m1), ['b', 'c']);
  assert.deepEqual(net.readers(m2), ['a', 'c']);
  assert.deepEqual(net.readers(m3), ['b', 'c']);
  assert.equal(net.get('x').opened.get(m1!.id), 'error:MISSING_KEY');
  for (const n of ['a', 'b', 'c']) assert.deepEqual(net.get(n).group.members(), [...net.get('a').group.members()]);
  assert.equal(net.get('a').group.members().length, 3);
  // A body read twice does not open twice: its key is gone.
  const b = net.get('b');
  assert.throws(() => b.group.open(net.get('a').key, m1!.body), /MISSING_KEY/);
});

test('message scheme: an update opens new epochs, and messages out of order within the window open', async () => {
  const net = await founded('update', ['a', 'b', 'c']);
  await net.update('b');
  await net.syncAll();
  const burst = ['1', '2', '3', '4'].map((t) => net.say('a', t)!);
  // c reads them in reverse: the skipped keys are kept for it.
  const c = net.get('c');
  for (const e of [...burst].reverse()) c.opened.set(e.id, new TextDecoder().decode(c.group.open(net.get('a').key, e.body)));
  for (const e of burst) c.read.add(e.id);
  await net.syncAll();
  for (const e of burst) assert.deepEqual(net.readers(e), ['b', 'c']);
});

test('message scheme: a removed member opens nothing sent after the removal', async () => {
  const net = await founded('remove', ['a', 'b', 'c']);
  const before = net.say('b', 'before');
  await net.remove('a', 'c');
  await net.syncAll();
  const after = [net.say('a', 'after a'), net.say('b', 'after b')];
  await net.syncAll();
  assert.deepEqual(net.readers(before), ['a', 'c']);
  for (const e of after) assert.ok(!net.readers(e).includes('c'));
  assert.deepEqual(net.readers(after[0]), ['b']);
  assert.deepEqual(net.readers(after[1]), ['a']);
  assert.deepEqual(net.get('c').group.members(), []);
  assert.equal(net.say('c', 'still here?'), undefined);
});

test('message scheme: a newcomer reads from its add on, nothing from before', async () => {
  const net = await founded('add', ['a', 'b', 'c']);
  net.join('n');
  const before = net.say('b', 'before');
  await net.add('a', 'n');
  await net.syncAll();
  const after = [net.say('a', 'welcome n'), net.say('b', 'hi n'), net.say('n', 'hello all')];
  await net.syncAll();
  assert.deepEqual(net.readers(before), ['a', 'c']);
  assert.equal(net.get('n').opened.get(before!.id), 'error:MISSING_KEY');
  assert.deepEqual(net.readers(after[0]), ['b', 'c', 'n']);
  assert.deepEqual(net.readers(after[1]), ['a', 'c', 'n']);
  assert.deepEqual(net.readers(after[2]), ['a', 'b', 'c']);
  for (const n of ['a', 'b', 'c', 'n']) assert.equal(net.get(n).group.members().length, 4);
});

test('message scheme: concurrent add and remove (a adds n while b removes c)', async () => {
  const net = await founded('add-remove', ['a', 'b', 'c', 'd']);
  net.join('n');
  await net.add('a', 'n');
  await net.remove('b', 'c');
  await net.syncAll();
  const after = ['a', 'b', 'd', 'n'].map((s) => net.say(s, `from ${s}`)!);
  await net.syncAll();
  for (const e of after) {
    const expected = ['a', 'b', 'd', 'n'].filter((x) => x !== e.author);
    assert.deepEqual(net.readers(e), expected, `readers of ${e.author}'s message`);
  }
  for (const n of ['a', 'b', 'd', 'n']) assert.deepEqual(net.get(n).group.members(), net.get('a').group.members());
  assert.equal(net.get('a').group.members().length, 4);
});

test('message scheme: concurrent updates converge', async () => {
  const net = await founded('updates', ['a', 'b', 'c']);
  await net.update('a');
  await net.update('b');
  await net.update('c');
  await net.syncAll();
  const msgs = ['a', 'b', 'c'].map((s) => net.say(s, `after ${s}`)!);
  await net.syncAll();
  for (const e of msgs)
    assert.deepEqual(
      net.readers(e),
      ['a', 'b', 'c'].filter((x) => x !== e.author),
    );
  for (const m of net.members.values()) assert.deepEqual(m.errors, []);
});

test('message scheme: an add concurrent with the removal of the adder is undone', async () => {
  const net = await founded('adder-removed', ['a', 'b', 'c']);
  net.join('n');
  await net.add('a', 'n');
  await net.remove('b', 'a');
  // c reads the add first, then the removal: it welcomed n for a moment.
  await net.sync('c', ['a']);
  await net.syncAll();
  for (const name of ['b', 'c'])
    assert.deepEqual(
      net.get(name).group.members().map(net.nameOf.bind(net)),
      ['b', 'c'].sort((x, y) => net.get(x).group.memberId.localeCompare(net.get(y).group.memberId)),
    );
  const after = [net.say('b', 'b after'), net.say('c', 'c after')];
  await net.syncAll();
  assert.deepEqual(net.readers(after[0]), ['c']);
  assert.deepEqual(net.readers(after[1]), ['b']);
});
