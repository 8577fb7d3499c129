/**
 * Access control in the real node pipeline: three nodes on 127.0.0.1 (real
 * TCP, real libp2p), each with its own group state and access processor in
 * the topic's chain. The owner creates the group and adds a writer and a
 * reader; the reader's writes and, after its removal, the former writer's
 * writes reach no app on any node, and each node reports why it dropped them.
 * (Sync and gossip still carry them: withholding a private topic from
 * non-members is the next step, docs/auth.md.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concatBytes, topicId, utf8 } from '../../src/core/index.ts';
import type { Node, TopicEvent } from '../../src/node/index.ts';
import { localNodes } from '../helpers/nodes.ts';
import { AccessControlProcessor, encodeAuthBody, GroupState, MANAGE, READ, WRITE, type AccessEvent, type GroupAction } from '../../src/auth/index.ts';
import { until } from '../helpers/wait.ts';

const TOPIC = 'private-room';
const MARK = utf8('AUTH'); // this test's marker for auth bodies on the topic's own log
const local = localNodes();

interface Member {
  node: Node;
  state: GroupState;
  texts: string[];
  events: AccessEvent[];
  publish(body: Uint8Array): Promise<string>;
}

async function join(owner: string | undefined, bootstrap: string[] = []): Promise<Member> {
  const node = await local.node({ bootstrap });
  const state = new GroupState();
  const events: AccessEvent[] = [];
  const access = new AccessControlProcessor({
    topic: topicId(TOPIC),
    owner: owner ?? node.id,
    state,
    onEvent: (e) => events.push(e),
    authBodyOf: (op) => {
      const b = op.body;
      return b && b.length >= MARK.length && MARK.every((x, i) => b[i] === x) ? b.subarray(MARK.length) : undefined;
    },
  });
  const { tx, rx } = node.stream(TOPIC, { access });
  const texts: string[] = [];
  void (async () => {
    for await (const e of rx as AsyncIterable<TopicEvent>) {
      texts.push(new TextDecoder().decode(e.body));
      e.ack();
    }
  })();
  return { node, state, texts, events, publish: async (body) => (await tx.publish(body)).toHex() };
}

function auth(m: Member, action: GroupAction): Promise<string> {
  return m.publish(concatBytes(MARK, encodeAuthBody({ deps: m.state.heads(), action })));
}

const rejectedBy = (m: Member, author: string) => m.events.filter((e) => e.type === 'rejected' && e.author === author).length;

test('a reader’s writes and a removed writer’s later writes reach no app on any node', async () => {
  const a = await join(undefined);
  const b = await join(a.node.id, a.node.addresses);
  const c = await join(a.node.id, a.node.addresses);
  const all = [a, b, c];
  const group = await auth(a, { type: 'create', members: [{ member: { kind: 'individual', id: a.node.id }, access: { level: MANAGE } }] });
  await auth(a, { type: 'add', group, member: { kind: 'individual', id: b.node.id }, access: { level: WRITE } });
  await auth(a, { type: 'add', group, member: { kind: 'individual', id: c.node.id }, access: { level: READ } });
  await until(() => all.every((m) => m.state.access(group, c.node.id, Date.now() * 1000)?.level === READ), 'every node to see the members');

  await b.publish(utf8('from the writer'));
  await c.publish(utf8('from the reader'));
  await a.publish(utf8('from the owner'));
  await until(() => all.every((m) => m.texts.includes('from the writer') && m.texts.includes('from the owner')), 'the allowed writes everywhere');
  await until(() => all.every((m) => rejectedBy(m, c.node.id) === 1), 'every node to drop the reader’s write');
  for (const m of all) assert.ok(!m.texts.includes('from the reader'), 'no app got the reader’s write');

  await auth(a, { type: 'remove', group, member: { kind: 'individual', id: b.node.id } });
  await until(() => all.every((m) => m.state.access(group, b.node.id, Date.now() * 1000) === null), 'every node to see the removal');
  await b.publish(utf8('after the removal'));
  await until(() => all.every((m) => rejectedBy(m, b.node.id) === 1), 'every node to drop the removed writer’s write');
  for (const m of all) assert.ok(!m.texts.includes('after the removal'), 'no app got the removed writer’s write');
  const reason = a.events.find((e) => e.type === 'rejected' && e.author === b.node.id);
  assert.match(reason?.type === 'rejected' ? reason.error.message : '', /holds no access at its dependencies, write needed/);
  assert.ok(
    a.events.some((e) => e.type === 'readers' && e.change === 'removed' && e.member === b.node.id),
    'the removal is a readers event for the encryption layer',
  );
});
