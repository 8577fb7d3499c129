import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createOperation, Hash, isWalkawayError, type Operation } from '../../src/core/index.ts';
import {
  CausalOrderer,
  LwwMap,
  pipeline,
  ProcessorStream,
  PruneProcessor,
  type OrderedOperation,
  type Processor,
  type ProcessorReport,
} from '../../src/processors/index.ts';
import { InboundStage } from './inbound-stage.ts';
import { MemoryStore, type Store } from '../../src/store/index.ts';
import { authorKey, makeHistory, storeFactories, TOPIC } from './helpers.ts';

async function* from<T>(items: T[]): AsyncIterable<T> {
  for (const item of items) yield item;
}

function basicLog(author: number, count: number, pruneAt: number): Operation[] {
  const out: Operation[] = [];
  for (let seq = 0; seq < count; seq++) {
    out.push(
      createOperation({
        privateKey: authorKey(author),
        seqNum: seq,
        backlink: out[seq - 1]?.hash,
        body: new Uint8Array([seq]),
        extensions: { variant: 'basic', logId: new Uint8Array(32).fill(1), timestamp: seq, pruneFlag: seq === pruneAt },
      }),
    );
  }
  return out;
}

function orderedFlow(store: Store, reports: ProcessorReport[] = []) {
  const onReport = (r: ProcessorReport) => reports.push(r);
  return pipeline(
    new InboundStage({ store, topic: TOPIC, onReport }),
    new PruneProcessor({ store, onReport }),
    new CausalOrderer({ store, topic: TOPIC, batchSize: 4, onReport }),
  );
}

describe('pipeline', () => {
  test('composes stages; bad bytes are reported with their typed error, the rest flows', async () => {
    const store = MemoryStore.create();
    const reports: ProcessorReport[] = [];
    const ops = makeHistory(1, { authors: 2, operations: 10 });
    const tampered = new Uint8Array(ops[3].headerBytes);
    tampered[tampered.length - 1] ^= 1;
    const inputs = [{ headerBytes: new Uint8Array([0x80]) }, { headerBytes: tampered }, ...ops.map((o) => ({ headerBytes: o.headerBytes, body: o.body }))];
    const lww = new LwwMap<string>();
    const out: unknown[] = [];
    for await (const change of new ProcessorStream(pipeline(orderedFlow(store, reports), lww), from(inputs))) out.push(change);
    const rejected = reports.filter((r) => r.type === 'rejected');
    assert.equal(rejected.length, 2);
    assert.ok(rejected.every((r) => r.type === 'rejected' && r.error instanceof Error && typeof r.error.code === 'string'));
    assert.ok(out.length > 0);
    assert.ok(lww.size > 0);
  });

  test('an asynchronous verifier makes the pipeline asynchronous and drops what fails', async () => {
    const store = MemoryStore.create();
    const reports: ProcessorReport[] = [];
    const ops = makeHistory(2, { authors: 1, operations: 4 });
    const bad = ops[3].hash.toHex();
    const flow = pipeline(
      new InboundStage({
        store,
        verify: async (list) => list.map((o) => o.hash.toHex() !== bad),
        onReport: (r) => reports.push(r),
      }),
      new CausalOrderer({ store }),
    );
    const result = flow.process(ops.map((o) => ({ headerBytes: o.headerBytes, body: o.body })));
    assert.ok(result instanceof Promise);
    const released = (await result) as OrderedOperation[];
    assert.equal(released.length, 3);
    assert.ok(reports.some((r) => r.type === 'rejected' && isWalkawayError(r.error, 'INVALID_SIGNATURE')));
  });

  test('prune deletes what comes before a prune point; the orderer does not wait for it', () => {
    const store = MemoryStore.create();
    const reports: ProcessorReport[] = [];
    const log = basicLog(0, 6, 3);
    const flow = orderedFlow(store, reports);
    const released = log.flatMap((o) => flow.process({ operation: o }) as OrderedOperation[]);
    assert.equal(released.length, 6);
    assert.equal(store.getOperation(log[0].hash), undefined);
    assert.ok(store.getOperation(log[3].hash));
    assert.ok(reports.some((r) => r.type === 'pruned' && r.deleted === 3));
    // A new peer that only gets the log from the prune point on releases it without the deleted history.
    const peer = MemoryStore.create();
    const peerFlow = orderedFlow(peer);
    const peerReleased = log.slice(3).flatMap((o) => peerFlow.process({ operation: o }) as OrderedOperation[]);
    assert.deepEqual(
      peerReleased.map((o) => o.lamport),
      [3, 4, 5],
    );
  });

  test('a pipeline needs a stage', () => {
    assert.throws(
      () => (pipeline as (...p: Processor<unknown, unknown>[]) => unknown)(),
      (e) => isWalkawayError(e, 'INVALID_ARGUMENT'),
    );
  });

  const factories = storeFactories();
  after(() => factories.forEach((f) => f.cleanup()));
  for (const factory of factories) {
    test(`stream: a consumer that stops unacknowledged gets the event again after restart (${factory.kind})`, async () => {
      const ops = makeHistory(7, { authors: 3, operations: 30 });
      let store = factory.open();
      const inputs = ops.map((o) => ({ headerBytes: o.headerBytes, body: o.body }));
      const firstSeen: string[] = [];
      for await (const o of new ProcessorStream(orderedFlow(store), from(inputs.slice(0, 20)))) {
        const hex = (o as OrderedOperation).operation.hash.toHex();
        firstSeen.push(hex);
        if (firstSeen.length === 12) break; // crash while handling the 12th event: not acknowledged
      }
      store = factory.reopen(store);
      const secondSeen: string[] = [];
      for await (const o of new ProcessorStream(orderedFlow(store), from(inputs))) secondSeen.push((o as OrderedOperation).operation.hash.toHex());
      assert.ok(secondSeen.includes(firstSeen[11]), 'the unacknowledged event comes again');
      assert.deepEqual(new Set([...firstSeen, ...secondSeen]).size, ops.length);
      store = factory.reopen(store);
      const third: unknown[] = [];
      for await (const o of new ProcessorStream(orderedFlow(store), from([]))) third.push(o);
      assert.deepEqual(third, [], 'everything acknowledged and flushed: nothing owed');
      store.close();
    });
  }

  test('stream stops on abort', async () => {
    const store = MemoryStore.create();
    const ops = makeHistory(8, { authors: 1, operations: 5 });
    const controller = new AbortController();
    const seen: unknown[] = [];
    const stream = new ProcessorStream(orderedFlow(store), from(ops.map((o) => ({ operation: o }))), { signal: controller.signal });
    for await (const o of stream) {
      seen.push(o);
      controller.abort();
    }
    assert.equal(seen.length, 1);
    assert.ok(store.hasOperation(ops[0].hash));
    assert.ok(!store.hasOperation(Hash.digest(new Uint8Array([1]))));
  });
});
