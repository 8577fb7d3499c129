/**
 * The processors chain of a topic: prune > causal order > access > decrypt >
 * app processors, synchronous or not, always in causal order.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createOperation, type Operation } from '../../src/core/index.ts';
import { encodeLwwWrite, LwwMap, ProcessorChain, type LwwChange, type OrderedOperation, type SlotProcessor } from '../../src/processors/index.ts';
import { MemoryStore, type Store, type StoredOperation } from '../../src/store/index.ts';
import { authorKey, makeHistory, shuffleWithDuplicates, TOPIC } from './helpers.ts';

function chainOn(store: Store, problems: string[] = []) {
  const delivered: OrderedOperation[] = [];
  const ordered: OrderedOperation[] = [];
  const chain = new ProcessorChain({
    store,
    topic: TOPIC,
    onOrdered: (o) => ordered.push(o),
    onDelivered: (ops) => delivered.push(...ops),
    onProblem: (m) => problems.push(m),
  });
  return { chain, delivered, ordered };
}

function ingest(store: Store, op: Operation): StoredOperation | undefined {
  const outcome = store.ingest(op, TOPIC);
  return outcome.status === 'inserted' ? outcome.operation : undefined;
}

/** A log of one author, basic extensions, prune flag at `pruneAt`, bodies LWW writes of key "k". */
function lwwLog(count: number, pruneAt = -1): Operation[] {
  const out: Operation[] = [];
  for (let seq = 0; seq < count; seq++) {
    out.push(
      createOperation({
        privateKey: authorKey(1),
        seqNum: seq,
        backlink: out[seq - 1]?.hash,
        body: encodeLwwWrite('k', seq),
        extensions: { variant: 'basic', logId: TOPIC, timestamp: seq, pruneFlag: seq === pruneAt },
      }),
    );
  }
  return out;
}

/** A slot that drops operations whose body's first byte is odd and tags the rest. */
const evenOnly: SlotProcessor = {
  name: 'even-only',
  process: (o) => (o.operation.body && o.operation.body[0] % 2 === 1 ? [] : [{ ...o, prepared: 'checked' }]),
};

describe('processors chain', () => {
  test('a shuffled delivery comes out in causal order, through the slots, to every app processor', () => {
    const store = MemoryStore.create();
    const { chain, delivered, ordered } = chainOn(store);
    const history = makeHistory(3, { authors: 4, operations: 200 });
    const seen: string[] = [];
    chain.useSlot('access', evenOnly);
    chain.addProcessor({ name: 'spy', process: (o) => [o.operation.hash.toHex()] }, (h) => seen.push(h));
    // Stored in log order (as ingest requires), handed to the chain shuffled and with repeats.
    const stored = new Map(history.map((op) => [op.hash.toHex(), ingest(store, op)!]));
    for (const op of shuffleWithDuplicates(history, 5)) chain.process(stored.get(op.hash.toHex())!);
    assert.equal(ordered.length, 200, 'every operation is ordered, readable or not');
    const passed = history.filter((o) => !(o.body && o.body[0] % 2 === 1));
    assert.equal(delivered.length, passed.length, 'the access slot dropped the odd ones');
    assert.ok(delivered.every((o) => o.prepared === 'checked'));
    assert.deepEqual(
      seen,
      delivered.map((o) => o.operation.hash.toHex()),
      'the app processor saw what the subscribers get',
    );
    const position = new Map(delivered.map((o, i) => [o.operation.hash.toHex(), i]));
    for (const o of delivered) {
      for (const dep of [o.operation.header.backlink, ...(o.operation.header.extensions?.variant === 'causal' ? o.operation.header.extensions.previous : [])]) {
        if (dep && position.has(dep.toHex())) assert.ok(position.get(dep.toHex())! < position.get(o.operation.hash.toHex())!, 'dependencies first');
      }
    }
  });

  test('slots: access before decrypt, one processor each, unknown slots refused', () => {
    const store = MemoryStore.create();
    const { chain, delivered } = chainOn(store);
    const trail: string[] = [];
    chain.useSlot('decrypt', { name: 'd', process: (o) => (trail.push('decrypt'), [o]) });
    chain.useSlot('access', { name: 'a', process: (o) => (trail.push('access'), [o]) });
    assert.throws(() => chain.useSlot('access', evenOnly), /taken by a/);
    assert.throws(() => chain.useSlot('nope' as 'access', evenOnly), /no slot/);
    chain.process(ingest(store, lwwLog(1)[0])!);
    assert.deepEqual(trail, ['access', 'decrypt']);
    assert.equal(delivered.length, 1);
  });

  test('an asynchronous slot keeps the order; idle() waits for it; a throwing app processor stops nothing', async () => {
    const store = MemoryStore.create();
    const problems: string[] = [];
    const { chain, delivered } = chainOn(store, problems);
    let n = 0;
    // Slower for earlier operations: without a queue, later ones would overtake them.
    chain.useSlot('decrypt', { name: 'slow', process: (o) => new Promise((resolve) => setTimeout(() => resolve([o]), 20 - 2 * n++)) });
    chain.addProcessor({
      name: 'throws',
      process: () => {
        throw new Error('app bug');
      },
    });
    const map = new LwwMap<number>();
    chain.addProcessor(map);
    const log = lwwLog(8);
    for (const op of log) chain.process(ingest(store, op)!);
    assert.equal(delivered.length, 0, 'nothing delivered before the slot answers');
    await chain.idle();
    assert.deepEqual(
      delivered.map((o) => o.operation.header.seqNum),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.equal(map.get('k'), 7);
    assert.equal(problems.filter((p) => p.includes('app bug')).length, 8);
  });

  test('an app processor added late gets the history first, with the Lamport timestamps of live delivery', () => {
    const store = MemoryStore.create();
    const { chain, delivered } = chainOn(store);
    const log = lwwLog(5);
    for (const op of log.slice(0, 3)) chain.process(ingest(store, op)!);
    const changes: LwwChange<number>[] = [];
    const map = new LwwMap<number>();
    chain.addProcessor(map, (c) => changes.push(c));
    assert.equal(map.get('k'), 2, 'the history is in the view');
    for (const op of log.slice(3)) chain.process(ingest(store, op)!);
    assert.equal(map.get('k'), 4);
    assert.deepEqual(
      changes.map((c) => c.value),
      [0, 1, 2, 3, 4],
    );
    assert.deepEqual(
      changes.map((c) => c.stamp.lamport),
      delivered.map((o) => o.lamport),
    );
  });

  test('a batch with a prune point: entries below it are deleted and never reach the app', () => {
    const store = MemoryStore.create();
    const { chain, delivered } = chainOn(store);
    const log = lwwLog(6, 3);
    chain.processAll(log.map((op) => ingest(store, op)!));
    assert.deepEqual(
      delivered.map((o) => o.operation.header.seqNum),
      [3, 4, 5],
    );
    assert.equal(store.getOperation(log[2].hash), undefined, 'deleted');
    assert.ok(store.getOperation(log[3].hash), 'the prune point stays');
  });
});
