/**
 * The orderer's `prepare` hook: work that needs no order runs on arrival and
 * travels with the operation. It must change what consumers compute by
 * nothing, whatever the delivery order, duplicates and restarts.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createOperation, isWalkawayError, type Operation } from '../../src/core/index.ts';
import { CausalOrderer, encodeLwwWrite, LwwMap, type OrderedOperation, type ProcessorReport } from '../../src/processors/index.ts';
import { MemoryStore, type StoredOperation } from '../../src/store/index.ts';
import { asStored, authorKey, LOG_ID, makeHistory, shuffleWithDuplicates, storeFactories } from './helpers.ts';

const SEED = 20261201;

describe('prepare', () => {
  const factories = storeFactories();
  after(() => factories.forEach((f) => f.cleanup()));

  test('runs once per operation on arrival, and its result is released with it', () => {
    const history = makeHistory(SEED, { authors: 4, operations: 300 });
    const calls = new Map<string, number>();
    const orderer = new CausalOrderer({
      store: MemoryStore.create(),
      prepare: (op) => {
        const hex = op.hash.toHex();
        calls.set(hex, (calls.get(hex) ?? 0) + 1);
        return `prepared ${hex}`;
      },
    });
    const released: OrderedOperation<string>[] = [];
    for (const op of asStored(shuffleWithDuplicates(history, SEED))) released.push(...orderer.process(op));
    assert.equal(released.length, history.length);
    for (const r of released) assert.equal(r.prepared, `prepared ${r.operation.hash.toHex()}`);
    assert.equal(calls.size, history.length);
    assert.ok(
      [...calls.values()].every((n) => n === 1),
      'duplicates are not prepared again',
    );
  });

  test('an LWW map fed prepared writes ends where one preparing on release ends, in any order', () => {
    const history = makeHistory(SEED + 1, { authors: 5, operations: 400, keys: ['a', 'b', 'c'] });
    const inOrder = new LwwMap<string>();
    const plain = new CausalOrderer({ store: MemoryStore.create() });
    for (const op of asStored(history)) for (const r of plain.process(op)) inOrder.process(r);
    for (let s = 0; s < 5; s++) {
      const map = new LwwMap<string>();
      const orderer = new CausalOrderer({ store: MemoryStore.create(), prepare: (op) => map.prepare(op) });
      for (const op of asStored(shuffleWithDuplicates(history, SEED + s))) for (const r of orderer.process(op)) map.process(r);
      assert.deepEqual(map.snapshot(), inOrder.snapshot(), `shuffle ${s}`);
      assert.deepEqual(map.entries(), inOrder.entries());
    }
  });

  test('a bad body is reported once, on arrival; another map prepares the write itself', () => {
    const reports: ProcessorReport[] = [];
    const map = new LwwMap<string>({ onReport: (r) => reports.push(r) });
    const bad = createOperation({
      privateKey: authorKey(0),
      seqNum: 0,
      body: new Uint8Array([0xff, 0x00]),
      extensions: { variant: 'causal', logId: LOG_ID, timestamp: 1, previous: [] },
    });
    const good = createOperation({
      privateKey: authorKey(1),
      seqNum: 0,
      body: new Uint8Array([0x82, 0x61, 0x6b, 0x61, 0x76]),
      extensions: { variant: 'causal', logId: LOG_ID, timestamp: 1, previous: [] },
    });
    const orderer = new CausalOrderer({ store: MemoryStore.create(), prepare: (op) => map.prepare(op) });
    const out = [...orderer.process({ ...bad, localSeq: 1 }), ...orderer.process({ ...good, localSeq: 2 })];
    assert.equal(reports.length, 1);
    assert.ok(reports[0].type === 'rejected' && isWalkawayError(reports[0].error, 'MALFORMED'));
    for (const r of out) map.process(r);
    assert.equal(reports.length, 1, 'not reported again on release');
    assert.deepEqual(map.entries(), [['k', 'v']]);
    // A second map with its own decoder must not trust the first map's preparation.
    const other = new LwwMap<string>({ decode: (op) => ({ key: 'other', value: op.hash.toHex() }) });
    for (const r of out) other.process(r);
    assert.deepEqual(
      other.entries().map(([k]) => k),
      ['other'],
    );
  });

  test('an operation that overflows the pending set is prepared once, when a scan takes it in', () => {
    const store = MemoryStore.create();
    const history = makeHistory(SEED + 3, { authors: 4, operations: 60 });
    const inStore = history.map((op) => (store.ingest(op) as { operation: StoredOperation }).operation);
    let calls = 0;
    const reports: ProcessorReport[] = [];
    const orderer = new CausalOrderer({ store, maxPending: 5, onReport: (r) => reports.push(r), prepare: (op) => (calls++, op.localSeq) });
    const released = shuffleWithDuplicates(inStore, SEED, 0).flatMap((op) => orderer.process(op));
    released.push(...orderer.start());
    assert.ok(reports.some((r) => r.type === 'overflow'));
    assert.equal(released.length, history.length);
    for (const r of released) assert.equal(r.prepared, r.operation.localSeq);
    assert.equal(calls, history.length);
  });

  test('an operation dropped below a prune point is discarded, and the map takes back its prepared write', () => {
    const log: Operation[] = [];
    for (let seq = 0; seq < 5; seq++) {
      log.push(
        createOperation({
          privateKey: authorKey(2),
          seqNum: seq,
          backlink: log[seq - 1]?.hash,
          body: encodeLwwWrite('k', `v${seq}`),
          extensions: { variant: 'basic', logId: LOG_ID, timestamp: seq, pruneFlag: seq === 4 },
        }),
      );
    }
    const map = new LwwMap<string>();
    const discarded: number[] = [];
    const orderer = new CausalOrderer<number>({
      store: MemoryStore.create(),
      prepare: (op) => map.prepare(op),
      discard: (op, h) => (discarded.push(h), map.discard(op, h)),
    });
    const out = orderer.process({ ...log[3], localSeq: 1 }); // waits for seq 2, which never comes
    assert.deepEqual(out, []);
    const [pending] = orderer.pending();
    assert.equal(pending.hash.toHex(), log[3].hash.toHex());
    const released = orderer.process({ ...log[4], localSeq: 2 }); // the prune point needs no history
    assert.equal(released.length, 1);
    assert.equal(discarded.length, 1, 'the waiting entry below the prune point is discarded');
    assert.equal(orderer.pending().length, 0);
    for (const r of released) map.process(r);
    assert.equal(map.get('k'), 'v4');
    // Both handles went back to the map: the next two writes reuse them.
    const again = [map.prepare(log[0]), map.prepare(log[1])].sort();
    assert.deepEqual(again, [0, 1]);
    // A handle given back is not trusted again for its old operation.
    map.discard(log[0], again[0]);
    const change = map.process({ operation: { ...log[0], localSeq: 9 }, lamport: 99, prepared: again[0] });
    assert.equal(change.length, 1, 'prepared again on release');
    assert.equal(change[0].value, 'v0');
    assert.deepEqual(change[0].stamp, { lamport: 99, timestamp: 0, author: log[0].header.publicKey.bytes, hash: log[0].hash.bytes });
  });

  for (const factory of factories) {
    test(`operations read back from the ${factory.kind} store after a restart are prepared too`, () => {
      const history = makeHistory(SEED + 2, { authors: 3, operations: 120 });
      let store = factory.open();
      const inStore = history.map((op) => (store.ingest(op) as { operation: StoredOperation }).operation);
      const delivery = shuffleWithDuplicates(inStore, SEED, 0);
      const before = new CausalOrderer({ store, batchSize: 7, prepare: (op) => op.localSeq });
      const released: OrderedOperation<number>[] = [];
      for (const op of delivery.slice(0, 80)) {
        released.push(...before.process(op));
        before.commit();
      }
      before.flush();
      store = factory.reopen(store);
      const after = new CausalOrderer({ store, batchSize: 7, prepare: (op) => op.localSeq });
      released.push(...after.start());
      assert.equal(new Set(released.map((r) => r.operation.hash.toHex())).size, history.length);
      for (const r of released) assert.equal(r.prepared, r.operation.localSeq);
      store.close();
    });
  }
});
