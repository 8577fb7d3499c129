/**
 * The access-control processor in the real processors chain (MemoryStore,
 * causal orderer): signed auth operations on the topic's auth log decide
 * which signed writes reach the app, the same for every delivery order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOperation, PrivateKey, type Hash, type Operation } from '../../src/core/index.ts';
import { ProcessorChain, type OrderedOperation, type ProcessorReport } from '../../src/processors/index.ts';
import { MemoryStore } from '../../src/store/index.ts';
import { AccessControlProcessor, authLogIdFor, encodeAuthBody, GroupState, MANAGE, READ, WRITE, type AccessEvent, type GroupAction } from '../../src/auth/index.ts';
import { Seeded } from './helpers.ts';

const TOPIC = new Uint8Array(32).fill(7);
const AUTH_LOG = authLogIdFor(TOPIC);
const key = (n: number) => PrivateKey.fromBytes(new Uint8Array(32).fill(n));
const [A, B, C, D] = [key(1), key(2), key(3), key(4)];
const who = (k: PrivateKey) => ({ kind: 'individual' as const, id: k.publicKey.toHex() });

/** Each author's two logs (auth and writes) with their next seqNum and last hash. */
class Author {
  readonly logs = new Map<string, { seq: number; last?: Hash }>();
  constructor(readonly key: PrivateKey) {}
  next(logId: Uint8Array, body: Uint8Array, previous: Hash[], timestamp: number): Operation {
    const k = Buffer.from(logId).toString('hex');
    const log = this.logs.get(k) ?? { seq: 0 };
    const op = createOperation({ privateKey: this.key, seqNum: log.seq, backlink: log.last, body, extensions: { variant: 'causal', logId, timestamp, previous } });
    this.logs.set(k, { seq: log.seq + 1, last: op.hash });
    return op;
  }
}

function scenario() {
  const [a, b, c, d] = [A, B, C, D].map((k) => new Author(k));
  const ops: Operation[] = [];
  const auth = (author: Author, action: GroupAction, deps: Operation[], t: number) => {
    const op = author.next(
      AUTH_LOG,
      encodeAuthBody({ deps: deps.map((o) => o.hash.toHex()), action }),
      deps.map((o) => o.hash),
      t,
    );
    ops.push(op);
    return op;
  };
  const write = (author: Author, text: string, previous: Operation[], t: number) => {
    const op = author.next(
      TOPIC,
      new TextEncoder().encode(text),
      previous.map((o) => o.hash),
      t,
    );
    ops.push(op);
    return op;
  };
  const create = auth(a, { type: 'create', members: [{ member: who(A), access: { level: MANAGE } }] }, [], 1);
  const group = create.hash.toHex();
  const addB = auth(a, { type: 'add', group, member: who(B), access: { level: WRITE } }, [create], 2);
  const addC = auth(a, { type: 'add', group, member: who(C), access: { level: READ } }, [addB], 3);
  write(b, 'b1: a writer writes', [addC], 4);
  write(c, 'c1: a reader writes', [addC], 5);
  write(d, 'd1: a stranger writes', [addC], 6);
  const removeB = auth(a, { type: 'remove', group, member: who(B) }, [addC], 7);
  write(b, 'b2: after the removal', [removeB], 8);
  write(a, 'a1: the manager writes', [removeB], 9);
  const forged = a.next(AUTH_LOG, new Uint8Array([0xff, 0x00]), [removeB.hash], 10);
  ops.push(forged);
  return { ops, group };
}

function run(ops: Operation[], group: string) {
  const store = MemoryStore.create();
  const delivered: string[] = [];
  const events: AccessEvent[] = [];
  const reports: ProcessorReport[] = [];
  const chain = new ProcessorChain({
    store,
    topic: TOPIC,
    onDelivered: (o: OrderedOperation[]) => delivered.push(...o.map((x) => new TextDecoder().decode(x.operation.body))),
    onProblem: (m) => assert.fail(m),
  });
  chain.useSlot('access', new AccessControlProcessor({ topic: TOPIC, group, state: new GroupState(), onEvent: (e) => events.push(e), onReport: (r) => reports.push(r) }));
  for (const op of ops) {
    const outcome = store.ingest(op, TOPIC);
    if (outcome.status === 'inserted') chain.process(outcome.operation);
  }
  return { delivered, events, reports };
}

test('only writers’ writes reach the app; the others are dropped with a reason', () => {
  const { ops, group } = scenario();
  const { delivered, events, reports } = run(ops, group);
  assert.deepEqual(delivered.sort(), ['a1: the manager writes', 'b1: a writer writes']);
  const rejected = events.filter((e) => e.type === 'rejected');
  assert.equal(rejected.length, 4, 'c1, d1, b2 and the forged auth body');
  assert.ok(rejected.every((e) => e.type === 'rejected' && ['NOT_PERMITTED', 'MALFORMED'].includes(e.error.code)));
  assert.match((rejected[0] as { error: Error }).error.message, /holds read at its dependencies, write needed/);
  assert.equal(reports.filter((r) => r.type === 'rejected' && r.processor === 'access').length, 4);
  const readers = events.filter((e) => e.type === 'readers').map((e) => e.type === 'readers' && `${e.change} ${e.member.slice(0, 4)}`);
  assert.deepEqual(readers, [
    `added ${A.publicKey.toHex().slice(0, 4)}`,
    `added ${B.publicKey.toHex().slice(0, 4)}`,
    `added ${C.publicKey.toHex().slice(0, 4)}`,
    `removed ${B.publicKey.toHex().slice(0, 4)}`,
  ]);
  assert.ok(
    events.some((e) => e.type === 'member' && e.member.id === B.publicKey.toHex() && e.access === null),
    'the removal is a member event',
  );
});

test('every delivery order gives the same decisions (judged by each write’s causal past)', () => {
  const { ops, group } = scenario();
  const expected = run(ops, group).delivered.sort();
  const rng = new Seeded(3);
  for (let i = 0; i < 10; i++) {
    // The store takes each log in order; the chain gets everything in a random interleaving of the logs.
    const shuffled = rng.shuffle([...ops]);
    const byLog = new Map<string, Operation[]>();
    for (const op of ops) {
      const k = `${op.header.publicKey.toHex()}/${op.header.extensions?.variant === 'causal' ? Buffer.from(op.header.extensions.logId).toString('hex') : ''}`;
      byLog.set(k, [...(byLog.get(k) ?? []), op]);
    }
    const order = shuffled.map((op) => {
      const k = `${op.header.publicKey.toHex()}/${op.header.extensions?.variant === 'causal' ? Buffer.from(op.header.extensions.logId).toString('hex') : ''}`;
      return byLog.get(k)!.shift()!;
    });
    assert.deepEqual(run(order, group).delivered.sort(), expected, `order ${i}`);
  }
});
