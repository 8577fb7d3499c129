/**
 * Private topics enforced in sync and gossip: three real nodes on 127.0.0.1
 * (real TCP, real libp2p, Noise proving each peer's key). A is the owner, B
 * a member, C a non-member on the same network who knows the topic's name.
 * C gets no operation of the topic by sync or gossip, and nothing C writes
 * reaches A or B. After A removes B, B's later writes reach no one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hash, topicId, utf8 } from '../../src/core/index.ts';
import type { Node, TopicEvent } from '../../src/node/index.ts';
import { localNodes } from '../helpers/nodes.ts';
import { authLogIdFor, WRITE, type AccessEvent } from '../../src/auth/index.ts';
import { PrivateTopics } from '../../src/auth/on-node/private-topic.ts';
import { until } from '../helpers/wait.ts';

const TOPIC = 'private-enforced';
const topic = topicId(TOPIC);
const local = localNodes();
const node = (bootstrap: string[] = []): Promise<Node> => local.node({ bootstrap });

function texts(rx: AsyncIterable<TopicEvent>): string[] {
  const out: string[] = [];
  void (async () => {
    for await (const e of rx) {
      if (e.body) out.push(new TextDecoder().decode(e.body));
      e.ack();
    }
  })();
  return out;
}

/** Resolves with the end of the next sync `from` starts with `peer` on the topic. */
function syncEnd(from: Node, peer: string): Promise<{ error?: { message: string } }> {
  return new Promise((resolve) => {
    const on = (e: { topic: string; peer: string; error?: { message: string } }) => {
      if (e.peer !== peer || e.topic !== Buffer.from(topic).toString('hex')) return;
      from.off('sync:end', on);
      resolve(e);
    };
    from.on('sync:end', on);
    from.syncWith(peer, topic);
    setTimeout(() => resolve({ error: { message: 'no session ended (timed out)' } }), 60_000).unref();
  });
}

/** Syncs `from` with `peer` until a session ends (a session already running may end first, unrefused); the last end's error message. */
async function refusal(from: Node, peer: string): Promise<string> {
  let message = '';
  for (let attempt = 0; attempt < 5 && !/topic not served here/.test(message); attempt++) message = (await syncEnd(from, peer)).error?.message ?? '';
  return message;
}

/** Authors of the operations a node stores for the topic. */
const authorsIn = (n: Node) => new Set(n.store.heights(topic).map((h) => h.author.toHex()));
const has = (n: Node, hash: string) => n.store.getOperation(Hash.fromHex(hash)) !== undefined;

test('a non-member gets nothing of a private topic; a removed member’s later writes reach no one', async () => {
  const a = await node();
  const aTopics = new PrivateTopics(a);
  const aEvents: AccessEvent[] = [];
  const aRoom = aTopics.open(TOPIC, { onEvent: (e) => aEvents.push(e) });
  const aTexts = texts(aRoom.stream.rx);
  const group = await aRoom.create();

  const b = await node(a.addresses);
  await aRoom.add(b.id, { level: WRITE });
  const bTopics = new PrivateTopics(b);
  const bRoom = bTopics.open(aRoom.ticket());
  assert.equal(bRoom.owner, a.id, 'the ticket names the owner');
  const bTexts = texts(bRoom.stream.rx);
  await until(() => bTopics.state.access(group, b.id, Date.now() * 1000)?.level === WRITE, 'B to learn the group from A');

  const c = await node([...a.addresses, ...b.addresses]);
  const cStream = c.stream(TOPIC); // knows the name, not a member: no policy of its own
  const cTexts = texts(cStream.rx);
  const fromC = (await cStream.tx.publish(utf8('from the stranger'))).toHex();

  await aRoom.stream.tx.publish(utf8('from the owner'));
  await bRoom.stream.tx.publish(utf8('from the member'));
  await until(() => aTexts.includes('from the member') && bTexts.includes('from the owner'), 'the members’ writes on both members');

  // C asks both members by sync: refused as if they had not joined.
  for (const peer of [a.id, b.id]) {
    assert.match(await refusal(c, peer), /topic not served here/, 'the member answers as one that has not joined');
  }
  assert.deepEqual([...authorsIn(c)], [c.id], 'C stores only its own operation: no operation of the members, no body');
  assert.deepEqual(cTexts, ['from the stranger']);
  assert.ok(!has(a, fromC) && !has(b, fromC), 'nothing C wrote reached a member');
  assert.equal(
    c.store.heights(topic).some((h) => Buffer.from(h.logId).equals(Buffer.from(authLogIdFor(topic)))),
    false,
    'C has no auth operation either',
  );

  // A removes B; B, cut off, writes on.
  await aRoom.remove(b.id);
  assert.equal(aTopics.state.access(group, b.id, Date.now() * 1000), null);
  const late = (await bRoom.stream.tx.publish(utf8('after the removal'))).toHex();
  assert.match(await refusal(b, a.id), /topic not served here/, 'A refuses B’s sync');
  await aRoom.stream.tx.publish(utf8('owner after the removal'));
  await until(() => aTexts.includes('owner after the removal'), 'A’s own write');
  assert.ok(!has(a, late), 'A never got the removed member’s write');
  assert.ok(!has(c, late), 'C never got it either');
  assert.ok(!aTexts.includes('after the removal') && !cTexts.includes('after the removal'));
  assert.ok(
    aEvents.some((e) => e.type === 'member' && e.member.id === b.id && e.access === null),
    'A told its app of the removal',
  );
});
