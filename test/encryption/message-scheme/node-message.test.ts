/**
 * The message scheme on real nodes over 127.0.0.1 (TCP, libp2p): alice, bob
 * and carol share a topic under DCGKA; its control messages (create, acks,
 * add, add-acks, remove) travel as operations of the topic and the node's
 * causal order gives the scheme the order it needs. Dave, added later,
 * reads from his add on; carol, removed, reads nothing written after; no
 * store holds a plaintext.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { topicId, utf8 } from '../../../src/core/index.ts';
import { MessageGroup, messageTopicEncryption, seededRandom } from '../../../src/encryption/index.ts';
import type { TopicEvent } from '../../../src/node/index.ts';
import { localNodes } from '../../helpers/nodes.ts';
import { contains, until } from '../../helpers/wait.ts';

const local = localNodes({ storage: 'memory' });

test('message scheme on nodes: members read each other, a newcomer from its add on, a removed member nothing after', async () => {
  const topic = 'walkaway/test/message-room';
  const first = await local.node();
  const nodes = [first];
  for (let i = 0; i < 3; i++) nodes.push(await local.node({ bootstrap: first.addresses }));
  const names = ['alice', 'bob', 'carol', 'dave'] as const;
  const members = names.map((name, i) => {
    const node = nodes[i];
    const group = MessageGroup.create({ identity: node.privateKey, topic: topicId(topic), random: seededRandom(`node-message-${name}`) }, Date.now());
    const encryption = messageTopicEncryption({ group });
    const stream = node.stream(topic, { encryption });
    encryption.attach((body) => stream.tx.publish(body));
    const texts: string[] = [];
    void (async () => {
      for await (const e of stream.rx as AsyncIterable<TopicEvent>) {
        if (e.body) texts.push(new TextDecoder().decode(e.body));
        e.ack();
      }
    })();
    return { name, node, group, encryption, stream, texts };
  });
  const [alice, bob, carol, dave] = members;
  for (const x of members) for (const y of members) if (x !== y) x.group.learnBundle(y.group.bundle());
  const key = (m: (typeof members)[number]) => m.node.privateKey.publicKey.toBytes();

  const before = 'before dave: only the three of us';
  await alice.encryption.create([key(alice), key(bob), key(carol)]);
  await until(() => bob.group.joined && carol.group.joined, 'bob and carol joined');
  await bob.stream.tx.publish(utf8(before));
  await until(() => alice.texts.includes(before) && carol.texts.includes(before), 'the first message');
  assert.ok(bob.texts.includes(before), 'the sender reads its own message back');

  await alice.encryption.add(key(dave));
  await until(() => dave.group.joined && bob.group.members().length === 4 && carol.group.members().length === 4, 'dave in every view');
  const hello = 'hello dave';
  // Bob writes once he has read the add (and add-acked it): dave reads messages sealed after that.
  await bob.stream.settled();
  await bob.stream.tx.publish(utf8(hello));
  await until(() => dave.texts.includes(hello), 'dave reads bob');
  assert.ok(!dave.texts.includes(before), 'dave does not read what came before his add');

  await alice.encryption.remove(key(carol));
  await until(() => bob.group.members().length === 3 && dave.group.members().length === 3, 'carol out of every view');
  const secret = 'after carol left: the new door code is 4711';
  // Dave writes once he has read the removal (and acked it): his message is in an epoch carol cannot follow.
  await dave.stream.settled();
  await dave.stream.tx.publish(utf8(secret));
  await until(() => alice.texts.includes(secret) && bob.texts.includes(secret), 'the secret at alice and bob');
  await until(
    () => carol.node.store.operationsAfter(0, 1000, carol.stream.topic).length >= alice.node.store.operationsAfter(0, 1000, alice.stream.topic).length,
    'every operation at carol',
  );
  await carol.stream.settled();
  assert.ok(!carol.texts.includes(secret), 'carol never reads it');
  for (const m of members) {
    for (const op of m.node.store.operationsAfter(0, 1000, m.stream.topic)) {
      for (const text of [before, hello, secret]) assert.ok(!op.body || !contains(op.body, utf8(text)), `${m.name}'s store holds a plaintext`);
    }
  }
  assert.equal(alice.encryption.stats().rejected + bob.encryption.stats().rejected, 0);
  // Dave refuses the one message from before his add at once (its key will never come), rather than holding it.
  assert.equal(dave.encryption.stats().rejected, 1);
  assert.equal(dave.encryption.stats().waiting, 0);
});
