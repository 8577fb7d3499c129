/**
 * Convergence is tested, not assumed: random multi-author histories with
 * concurrency, delivered in random permutations with duplicates and delays,
 * through ingest > prune > causal order into every built-in type. Every
 * replica must end in the same state, equal to a reference computed from the
 * history in creation order, and nothing may be released before its
 * dependencies.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { compareBytes, type Operation } from '../../src/core/index.ts';
import {
  CausalOrderer,
  decodeLwwWrite,
  fanout,
  GrowOnlySet,
  LogView,
  LwwMap,
  OperationDag,
  pipeline,
  PruneProcessor,
  type OrderedOperation,
  type Processor,
  type Stamp,
} from '../../src/processors/index.ts';
import { compareStamps, stampOf } from '../../src/processors/keys.ts';
import { InboundStage } from './inbound-stage.ts';
import { MemoryStore, type Store } from '../../src/store/index.ts';
import { asStored, makeHistory, rng, shuffleWithDuplicates, storeFactories, TOPIC } from './helpers.ts';

const SEED = 20261124;
const RUNS = 25;

interface Replica {
  released: OrderedOperation[];
  lww: LwwMap<string>;
  set: GrowOnlySet;
  dag: OperationDag;
  view: LogView;
}

function newTypes(): Omit<Replica, 'released'> {
  return { lww: new LwwMap<string>(), set: new GrowOnlySet(), dag: new OperationDag(), view: new LogView() };
}

/** ingest > prune > causal order > (record, LWW, set, DAG, log view) */
function replicaPipeline(store: Store, types: Omit<Replica, 'released'>, released: OrderedOperation[]) {
  const record: Processor<OrderedOperation, OrderedOperation> = {
    name: 'record',
    process: (o) => {
      released.push(o);
      return [o];
    },
  };
  const orderer = new CausalOrderer({ store, topic: TOPIC, batchSize: 5 });
  const flow = pipeline(
    new InboundStage({ store, topic: TOPIC }),
    new PruneProcessor({ store }),
    orderer,
    record,
    fanout<OrderedOperation>(types.lww, types.set, types.dag, types.view),
  );
  return { flow, orderer };
}

function deps(op: Operation): string[] {
  const h = op.header;
  return [...(h.backlink ? [h.backlink] : []), ...(h.extensions?.variant === 'causal' ? h.extensions.previous : [])].map((d) => d.toHex());
}

function assertCausal(released: OrderedOperation[], before: Set<string> = new Set()): void {
  const seen = new Set(before);
  for (const r of released) {
    for (const d of deps(r.operation)) assert.ok(seen.has(d), `released ${r.operation.hash.toHex().slice(0, 8)} before its dependency ${d.slice(0, 8)}`);
    seen.add(r.operation.hash.toHex());
  }
}

/** The expected state, from the history in creation order (a causal order). */
function reference(history: Operation[]) {
  const lamport = new Map<string, number>();
  const winners = new Map<string, { stamp: Stamp; deleted: boolean; value: unknown }>();
  for (const op of history) {
    const l = Math.max(op.header.seqNum, ...deps(op).map((d) => lamport.get(d)! + 1));
    lamport.set(op.hash.toHex(), l);
    const w = decodeLwwWrite(op);
    const stamp = stampOf(op, l);
    const cur = winners.get(w.key);
    if (!cur || compareStamps(stamp, cur.stamp) > 0) winners.set(w.key, { stamp, deleted: w.deleted === true, value: w.value });
  }
  const live = [...winners]
    .filter(([, w]) => !w.deleted)
    .map(([k, w]) => [k, w.value])
    .sort(([a], [b]) => String(a).localeCompare(String(b)));
  const hasDependents = new Set(history.flatMap(deps));
  const heads = history
    .filter((op) => !hasDependents.has(op.hash.toHex()))
    .map((op) => op.hash)
    .sort((a, b) => compareBytes(a.bytes, b.bytes));
  return { lamport, live, heads: heads.map((h) => h.toHex()) };
}

function summary(r: Replica) {
  return {
    lww: r.lww.snapshot(),
    set: r.set.keys(),
    heads: r.dag.heads().map((h) => h.toHex()),
    topo: r.dag.topological().map((h) => h.toHex()),
    view: r.view.snapshot(),
    lamports: r.released.map((o) => [o.operation.hash.toHex(), o.lamport] as const).sort(([a], [b]) => a.localeCompare(b)),
  };
}

function checkAgainstReference(history: Operation[], replicas: Replica[]): void {
  const ref = reference(history);
  const first = summary(replicas[0]);
  for (const r of replicas) {
    assert.deepEqual(summary(r), first, 'replicas differ');
    assert.deepEqual(r.lww.entries(), ref.live);
    assert.deepEqual(first.heads, ref.heads);
    for (const [hash, l] of first.lamports) assert.equal(l, ref.lamport.get(hash));
    assert.equal(r.set.size, new Set(history.map((op) => op.hash.toHex())).size > 0 ? r.set.size : 0);
    assert.equal(r.dag.size, history.length);
  }
  // The DAG's topological order respects every dependency.
  const pos = new Map(first.topo.map((h, i) => [h, i]));
  for (const op of history) for (const d of deps(op)) assert.ok(pos.get(d)! < pos.get(op.hash.toHex())!);
}

const historyArb = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  authors: fc.integer({ min: 1, max: 4 }),
  operations: fc.integer({ min: 1, max: 40 }),
  maxPrevious: fc.integer({ min: 0, max: 3 }),
  replicas: fc.array(fc.integer({ min: 1, max: 2 ** 31 - 1 }), { minLength: 2, maxLength: 3 }),
});

describe('convergence (fast-check, seed ' + SEED + ')', () => {
  test('full pipeline through the store: any delivery order, duplicates and delays converge', () => {
    fc.assert(
      fc.property(historyArb, ({ seed, authors, operations, maxPrevious, replicas }) => {
        const history = makeHistory(seed, { authors, operations, maxPrevious });
        const states = replicas.map((deliverySeed) => {
          const store = MemoryStore.create();
          const types = newTypes();
          const released: OrderedOperation[] = [];
          const { flow } = replicaPipeline(store, types, released);
          // Random order with duplicates; the store refuses what comes before its
          // backlink, so a later sync pass (creation order) delivers it again.
          for (const op of shuffleWithDuplicates(history, deliverySeed, 0.3)) {
            flow.process({ headerBytes: op.headerBytes, body: op.body });
            flow.commit!();
          }
          for (const op of history) {
            flow.process({ headerBytes: op.headerBytes, body: op.body });
            flow.commit!();
          }
          assert.equal(released.length, history.length, 'each operation released exactly once');
          assertCausal(released);
          return { released, ...types };
        });
        checkAgainstReference(history, states);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('orderer alone: uniform shuffles across logs with duplicates converge', () => {
    fc.assert(
      fc.property(historyArb, ({ seed, authors, operations, maxPrevious, replicas }) => {
        const history = makeHistory(seed, { authors, operations, maxPrevious });
        const states = replicas.map((deliverySeed) => {
          const types = newTypes();
          const released: OrderedOperation[] = [];
          const orderer = new CausalOrderer({ store: MemoryStore.create() });
          const sink = fanout<OrderedOperation>(types.lww, types.set, types.dag, types.view);
          for (const op of asStored(shuffleWithDuplicates(history, deliverySeed, 0.5))) {
            for (const o of orderer.process(op)) {
              released.push(o);
              sink.process(o);
            }
          }
          assert.equal(orderer.stats().pending, 0);
          assertCausal(released);
          return { released, ...types };
        });
        checkAgainstReference(history, states);
      }),
      { seed: SEED + 1, numRuns: RUNS },
    );
  });

  test('orderer alone, in batches: processAll releases exactly what process on each would, in the same order', () => {
    fc.assert(
      fc.property(historyArb, fc.integer({ min: 1, max: 2 ** 31 - 1 }), ({ seed, authors, operations, maxPrevious, replicas }, chunkSeed) => {
        const history = makeHistory(seed, { authors, operations, maxPrevious });
        const states = replicas.map((deliverySeed) => {
          const delivery = asStored(shuffleWithDuplicates(history, deliverySeed, 0.5));
          const one = new CausalOrderer({ store: MemoryStore.create() });
          const expected = delivery.flatMap((op) => one.process(op));
          const types = newTypes();
          const batched = new CausalOrderer({ store: MemoryStore.create(), prepare: (op) => types.lww.prepare(op) });
          const released: OrderedOperation[] = [];
          const random = rng(chunkSeed);
          for (let at = 0; at < delivery.length; ) {
            const size = 1 + Math.floor(random() * 40);
            const out = batched.processAll(delivery.slice(at, at + size));
            at += size;
            released.push(...out);
            types.lww.processAll(out);
            for (const o of out) for (const t of [types.set, types.dag, types.view]) t.process(o);
          }
          assert.deepEqual(
            released.map((o) => [o.operation.hash.toHex(), o.lamport]),
            expected.map((o) => [o.operation.hash.toHex(), o.lamport]),
          );
          assert.equal(batched.stats().pending, 0);
          assert.deepEqual(batched.stats(), one.stats());
          assertCausal(released);
          return { released, ...types };
        });
        checkAgainstReference(history, states);
      }),
      { seed: SEED + 4, numRuns: RUNS },
    );
  });

  test('the types alone commute: applying released operations in any order, twice, gives one state', () => {
    fc.assert(
      fc.property(historyArb, ({ seed, authors, operations, maxPrevious, replicas }) => {
        const history = makeHistory(seed, { authors, operations, maxPrevious });
        const orderer = new CausalOrderer({ store: MemoryStore.create() });
        const ordered = asStored(history).flatMap((op) => orderer.process(op));
        const states = replicas.map((s) => {
          const types = newTypes();
          for (const o of shuffleWithDuplicates(ordered, s, 1)) for (const t of Object.values(types)) t.process(o);
          return types;
        });
        for (const t of states) {
          assert.deepEqual(t.lww.snapshot(), states[0].lww.snapshot());
          assert.deepEqual(t.set.keys(), states[0].set.keys());
          assert.deepEqual(
            t.dag.heads().map((h) => h.toHex()),
            states[0].dag.heads().map((h) => h.toHex()),
          );
          assert.deepEqual(
            t.dag.topological().map((h) => h.toHex()),
            states[0].dag.topological().map((h) => h.toHex()),
          );
          assert.deepEqual(t.view.snapshot(), states[0].view.snapshot());
        }
        // Merging states is the same as applying everything.
        const merged = newTypes();
        for (const t of states) {
          merged.lww.merge(t.lww);
          merged.set.merge(t.set);
          merged.dag.merge(t.dag);
        }
        assert.deepEqual(merged.lww.snapshot(), states[0].lww.snapshot());
        assert.deepEqual(merged.set.keys(), states[0].set.keys());
        assert.deepEqual(
          merged.dag.heads().map((h) => h.toHex()),
          states[0].dag.heads().map((h) => h.toHex()),
        );
      }),
      { seed: SEED + 2, numRuns: RUNS },
    );
  });

  const factories = storeFactories();
  after(() => factories.forEach((f) => f.cleanup()));
  for (const factory of factories) {
    test(`a restart in the middle resumes without loss, at-least-once (${factory.kind})`, () => {
      fc.assert(
        fc.property(historyArb, fc.integer({ min: 0, max: 100 }), ({ seed, authors, operations, maxPrevious, replicas }, cutPercent) => {
          const history = makeHistory(seed, { authors, operations, maxPrevious });
          const states = replicas.map((deliverySeed) => {
            const delivery = [...shuffleWithDuplicates(history, deliverySeed, 0.3), ...history];
            const cut = Math.floor((delivery.length * cutPercent) / 100);
            let store = factory.open();
            // The types stand for the app's durable state: ahead of the acknowledgements.
            const types = newTypes();
            const released: OrderedOperation[] = [];
            let { flow } = replicaPipeline(store, types, released);
            for (const op of delivery.slice(0, cut)) {
              flow.process({ headerBytes: op.headerBytes, body: op.body });
              flow.commit!();
            }
            const beforeCrash = new Set(released.map((o) => o.operation.hash.toHex()));
            // Crash (nothing flushed) and restart on the same store.
            store = factory.reopen(store);
            const afterCrash: OrderedOperation[] = [];
            ({ flow } = replicaPipeline(store, types, afterCrash));
            flow.start!() as unknown[];
            flow.commit!();
            for (const op of delivery.slice(cut)) {
              flow.process({ headerBytes: op.headerBytes, body: op.body });
              flow.commit!();
            }
            flow.flush!();
            const all = new Set([...beforeCrash, ...afterCrash.map((o) => o.operation.hash.toHex())]);
            assert.equal(all.size, history.length, 'no operation lost');
            assertCausal(afterCrash, beforeCrash);
            store.close();
            return { released: [...released, ...afterCrash].filter((o, i, a) => a.findIndex((x) => x.operation.hash.equals(o.operation.hash)) === i), ...types };
          });
          checkAgainstReference(history, states);
        }),
        { seed: SEED + 3, numRuns: factory.kind === 'sqlite' ? 8 : RUNS },
      );
    });
  }
});
