/**
 * Group data encryption on real nodes over 127.0.0.1 (TCP, libp2p): alice,
 * bob and carol share a group-encrypted topic; control messages travel as
 * operations of the topic. After carol is removed, nothing written reaches
 * her app or her store as plaintext, while alice and bob read on. The
 * membership is a plain set per node, changed as the group CRDT would report
 * it (the CRDT itself is wired in auth-membership.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { topicId, utf8 } from '../../src/core/index.ts';
import { GroupEncryption, groupTopicEncryption, seededRandom, type GroupMembership } from '../../src/encryption/index.ts';
import type { Node, TopicEvent } from '../../src/node/index.ts';
import { localNodes } from '../helpers/nodes.ts';
import { contains, until } from '../helpers/wait.ts';

const local = localNodes({ storage: 'memory' });

test('a removed member reads nothing written after its removal; the others read on', async () => {
  const topic = 'walkaway/test/group-room';
  const a = await local.node();
  const b = await local.node({ bootstrap: a.addresses });
  const c = await local.node({ bootstrap: a.addresses });
  const nodes = { alice: a, bob: b, carol: c };
  const keyOf = (n: Node) => n.privateKey.publicKey.toBytes();
  const readers = { alice: [keyOf(a), keyOf(b), keyOf(c)], bob: [keyOf(a), keyOf(b), keyOf(c)], carol: [keyOf(a), keyOf(b), keyOf(c)] };
  const members = {} as Record<keyof typeof nodes, ReturnType<typeof setup>>;
  function setup(name: keyof typeof nodes) {
    const node = nodes[name];
    const membership: GroupMembership = { readers: () => readers[name], managersAt: () => [keyOf(a)] };
    const group = GroupEncryption.create({ identity: node.privateKey, topic: topicId(topic), membership, random: seededRandom(`node-group-${name}`) }, Date.now());
    const encryption = groupTopicEncryption({ group });
    const stream = node.stream(topic, { encryption });
    encryption.attach((body) => stream.tx.publish(body));
    const texts: string[] = [];
    void (async () => {
      for await (const e of stream.rx as AsyncIterable<TopicEvent>) {
        if (e.body) texts.push(new TextDecoder().decode(e.body));
        e.ack();
      }
    })();
    return { group, encryption, stream, texts };
  }
  for (const name of ['alice', 'bob', 'carol'] as const) members[name] = setup(name);
  for (const x of Object.values(members)) for (const y of Object.values(members)) if (x !== y) x.group.learnBundle(y.group.bundle());

  await members.alice.encryption.create(new Uint8Array(32).fill(1));
  await until(() => members.bob.group.latestSecretId() !== undefined && members.carol.group.latestSecretId() !== undefined, 'the first secret');
  await members.alice.stream.tx.publish(utf8('hello everyone'));
  await until(() => members.carol.texts.includes('hello everyone') && members.bob.texts.includes('hello everyone'), 'the first message');

  // carol is removed: every node's membership drops her, and the group scheme hears of it.
  const removal = { type: 'removed' as const, state: new Uint8Array(32).fill(2), by: keyOf(a), member: keyOf(c) };
  for (const name of ['alice', 'bob', 'carol'] as const) {
    readers[name] = [keyOf(a), keyOf(b)];
    await members[name].encryption.changed(removal);
  }
  const oldSecret = members.carol.group.latestSecretId();
  assert.equal(oldSecret, undefined, 'carol seals nothing any more');
  await until(() => members.bob.group.latestSecretId() !== undefined, "alice's fresh secret at bob");
  const secret = 'after carol left: the new door code is 4711';
  await members.bob.stream.tx.publish(utf8(secret));
  await until(() => members.alice.texts.includes(secret), 'the message at alice');
  // carol has the operation (she still carries the topic) but cannot open it.
  await until(
    () => c.store.operationsAfter(0, 1000, members.carol.stream.topic).length >= a.store.operationsAfter(0, 1000, members.alice.stream.topic).length,
    'every operation at carol',
  );
  await members.carol.stream.settled();
  assert.ok(!members.carol.texts.includes(secret), 'carol never reads it');
  assert.ok(members.carol.encryption.stats().waiting >= 1, 'it waits at carol for a key she will never get');
  for (const op of c.store.operationsAfter(0, 1000, members.carol.stream.topic)) assert.ok(!op.body || !contains(op.body, utf8(secret)));
  assert.equal(members.alice.encryption.stats().rejected + members.bob.encryption.stats().rejected, 0);
});
