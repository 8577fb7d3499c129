import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createOperation, Hash, isWalkawayError, type Operation } from '../../src/core/index.ts';
import { CausalOrderer, type CausalOrdererConfig, type OrderedOperation, type ProcessorReport } from '../../src/processors/index.ts';
import { NodeTable, slotOf } from '../../src/processors/node-table.ts';
import { MemoryStore, type StoredOperation } from '../../src/store/index.ts';
import { asStored, authorKey, LOG_ID, makeHistory, shuffleWithDuplicates, storeFactories } from './helpers.ts';

function causal(author: number, seqNum: number, backlink: Hash | undefined, previous: Hash[], ts = 1): Operation {
  return createOperation({
    privateKey: authorKey(author),
    seqNum,
    backlink,
    body: new Uint8Array([author, seqNum]),
    extensions: { variant: 'causal', logId: LOG_ID, timestamp: ts, previous },
  });
}

function hexes(out: OrderedOperation[]): string[] {
  return out.map((o) => o.operation.hash.toHex());
}

function stored(op: Operation, localSeq: number): StoredOperation {
  return { ...op, localSeq };
}

/** Each released operation comes after every dependency of it that was released. */
function assertCausal(released: OrderedOperation[], before: Set<string> = new Set()): void {
  const at = new Map(released.map((r, i) => [r.operation.hash.toHex(), i]));
  released.forEach((r, i) => {
    const h = r.operation.header;
    const deps = [...(h.backlink ? [h.backlink] : []), ...(h.extensions?.variant === 'causal' ? h.extensions.previous : [])];
    for (const d of deps) {
      const j = at.get(d.toHex());
      assert.ok(before.has(d.toHex()) || (j !== undefined && j < i), `dependency ${d.toHex().slice(0, 8)} released before its dependent`);
    }
  });
}

describe('causal orderer', () => {
  test('waits for backlink and previous, then releases in a cascade with Lamport timestamps', () => {
    const a0 = causal(0, 0, undefined, []);
    const b0 = causal(1, 0, undefined, [a0.hash]);
    const a1 = causal(0, 1, a0.hash, [b0.hash]);
    const orderer = new CausalOrderer({ store: MemoryStore.create() });
    assert.deepEqual(orderer.process(stored(a1, 1)), []);
    assert.deepEqual(orderer.process(stored(b0, 2)), []);
    assert.equal(orderer.stats().pending, 2);
    const out = orderer.process(stored(a0, 3));
    assert.deepEqual(
      hexes(out),
      [a0, b0, a1].map((o) => o.hash.toHex()),
    );
    assert.deepEqual(
      out.map((o) => o.lamport),
      [0, 1, 2],
    );
    assert.equal(orderer.stats().pending, 0);
    assert.equal(orderer.lamportOf(a1.hash), 2);
  });

  test('a dependency that never arrives keeps its dependents pending and is reported by a query', () => {
    const ghost = causal(2, 0, undefined, []);
    const a0 = causal(0, 0, undefined, [ghost.hash]);
    const a1 = causal(0, 1, a0.hash, []);
    const orderer = new CausalOrderer({ store: MemoryStore.create() });
    assert.deepEqual(orderer.process(stored(a0, 1)), []);
    assert.deepEqual(orderer.process(stored(a1, 2)), []);
    assert.deepEqual(
      orderer.missingDependencies().map((h) => h.toHex()),
      [ghost.hash.toHex()],
    );
    const pending = orderer.pending().sort((x, y) => x.localSeq - y.localSeq);
    assert.deepEqual(
      pending.map((p) => p.hash.toHex()),
      [a0.hash.toHex(), a1.hash.toHex()],
    );
    assert.deepEqual(
      pending[0].missing.map((h) => h.toHex()),
      [ghost.hash.toHex()],
    );
    assert.deepEqual(
      pending[1].missing.map((h) => h.toHex()),
      [a0.hash.toHex()],
    );
  });

  test('malformed causal extensions give a typed error, not a crash', () => {
    const x = causal(1, 0, undefined, []);
    const y = causal(2, 0, undefined, []);
    const bad = causal(0, 0, undefined, [x.hash, y.hash]);
    const ext = bad.header.extensions;
    assert.ok(ext?.variant === 'causal');
    ext.previous.reverse(); // unsorted: equal dependencies would not give equal bytes
    const reports: ProcessorReport[] = [];
    const orderer = new CausalOrderer({ store: MemoryStore.create(), onReport: (r) => reports.push(r) });
    assert.deepEqual(orderer.process(stored(bad, 1)), []);
    assert.equal(reports.length, 1);
    assert.ok(reports[0].type === 'rejected' && isWalkawayError(reports[0].error, 'MALFORMED'));
    assert.equal(orderer.stats().pending, 0);
  });

  test('duplicates are released once', () => {
    const ops = makeHistory(11, { authors: 3, operations: 40 });
    const delivery = asStored(shuffleWithDuplicates(ops, 5, 0.5));
    const orderer = new CausalOrderer({ store: MemoryStore.create() });
    const out = delivery.flatMap((op) => orderer.process(op));
    assert.equal(out.length, ops.length);
    assert.equal(new Set(hexes(out)).size, ops.length);
    assertCausal(out);
    assert.ok(orderer.stats().duplicates > 0);
  });

  test('a shuffle past the first growths of the node table releases everything once, in causal order, with in-order Lamport timestamps', () => {
    // 4,000 operations: more hashes than the table's first slots and records hold, more waits than its first edges.
    const ops = makeHistory(23, { authors: 6, operations: 4000, maxPrevious: 3 });
    const inOrder = new CausalOrderer({ store: MemoryStore.create() });
    const expected = new Map(
      asStored(ops)
        .flatMap((op) => inOrder.process(op))
        .map((o) => [o.operation.hash.toHex(), o.lamport]),
    );
    const orderer = new CausalOrderer({ store: MemoryStore.create() });
    const out = asStored(shuffleWithDuplicates(ops, 4, 0.1)).flatMap((op) => orderer.process(op));
    assert.equal(out.length, ops.length);
    assert.equal(new Set(hexes(out)).size, ops.length);
    assertCausal(out);
    for (const o of out) assert.equal(o.lamport, expected.get(o.operation.hash.toHex()));
    assert.equal(orderer.stats().pending, 0);
    assert.deepEqual(orderer.missingDependencies(), []);
  });

  test('a full pending set reports overflow and picks the operation up from the store later', () => {
    const store = MemoryStore.create();
    const ops = makeHistory(3, { authors: 4, operations: 60 });
    // Store everything first (in creation order), then deliver to the orderer shuffled.
    const storedOps = ops.map((op) => {
      const o = store.ingest(op);
      assert.equal(o.status, 'inserted');
      return (o as { operation: StoredOperation }).operation;
    });
    const reports: ProcessorReport[] = [];
    const orderer = new CausalOrderer({ store, maxPending: 5, onReport: (r) => reports.push(r) });
    const out = shuffleWithDuplicates(storedOps, 9, 0).flatMap((op) => orderer.process(op));
    const overflows = reports.filter((r) => r.type === 'overflow');
    assert.ok(overflows.length > 0);
    assert.ok(overflows.every((r) => r.type === 'overflow' && isWalkawayError(r.error, 'PENDING_OVERFLOW')));
    assert.ok(orderer.stats().peakPending <= 5);
    // Nothing is lost: whatever did not fit is found again in the store.
    const rest = orderer.start();
    const all = [...out, ...rest];
    assert.equal(new Set(hexes(all)).size, ops.length);
    assertCausal(all);
  });

  test('a small released cache falls back to the store and keeps order and Lamport timestamps', () => {
    const store = MemoryStore.create();
    const ops = makeHistory(17, { authors: 4, operations: 120, maxPrevious: 3 });
    for (const op of ops) store.ingest(op);
    const delivery = shuffleWithDuplicates(store.operationsAfter(0, 1000), 3, 0.2);
    const big = new CausalOrderer({ store: MemoryStore.create() });
    const small = new CausalOrderer({ store, maxReleasedCache: 10 });
    const expected = new Map(delivery.flatMap((op) => big.process(op)).map((o) => [o.operation.hash.toHex(), o.lamport]));
    const out: OrderedOperation[] = [];
    for (const op of delivery) {
      out.push(...small.process(op));
      small.commit(); // only acknowledged releases count when asked from the store
    }
    assert.equal(out.length, ops.length);
    assertCausal(out);
    for (const o of out) assert.equal(o.lamport, expected.get(o.operation.hash.toHex()));
  });

  test('a released cache smaller than what a consumer leaves unacknowledged keeps those releases (nothing waits for them)', () => {
    const store = MemoryStore.create();
    const ops = makeHistory(19, { authors: 3, operations: 150, maxPrevious: 2 });
    for (const op of ops) store.ingest(op);
    const delivery = shuffleWithDuplicates(store.operationsAfter(0, 1000), 5, 0.1);
    // No commit until the end: released ids are forgotten many times while none of them is acknowledged.
    const orderer = new CausalOrderer({ store, maxReleasedCache: 8 });
    const out = delivery.flatMap((op) => orderer.process(op));
    assert.equal(out.length, ops.length);
    assert.equal(orderer.stats().pending, 0);
    assertCausal(out);
  });

  test('at most maxHashes hashes are held: what does not fit overflows to the store and comes back', () => {
    const store = MemoryStore.create();
    const ops = makeHistory(29, { authors: 4, operations: 200, maxPrevious: 3 });
    const storedOps = ops.map((op) => (store.ingest(op) as { operation: StoredOperation }).operation);
    const reports: ProcessorReport[] = [];
    const orderer = new CausalOrderer({ store, maxHashes: 64, onReport: (r) => reports.push(r) });
    const out: OrderedOperation[] = [];
    for (const op of shuffleWithDuplicates(storedOps, 11, 0)) {
      out.push(...orderer.process(op));
      orderer.commit();
    }
    const overflows = reports.filter((r) => r.type === 'overflow');
    assert.ok(overflows.length > 0, 'a shuffle of 200 operations needs more than 64 hashes');
    assert.ok(overflows.every((r) => r.type === 'overflow' && isWalkawayError(r.error, 'PENDING_OVERFLOW')));
    for (let round = 0; round < 50 && out.length < ops.length; round++) {
      out.push(...orderer.start());
      orderer.commit();
    }
    assert.equal(new Set(hexes(out)).size, ops.length);
    assertCausal(out);
  });

  describe('processAll on batches gives the releases, reports and stats of process on each', () => {
    const ops = makeHistory(31, { authors: 4, operations: 300, maxPrevious: 3 });
    const x = causal(1, 0, undefined, []);
    const y = causal(2, 0, undefined, []);
    const bad = causal(0, 0, undefined, [x.hash, y.hash]);
    const ext = bad.header.extensions;
    assert.ok(ext?.variant === 'causal');
    ext.previous.reverse();
    const BATCH = 37;

    /** Stored first (in creation order), then delivered shuffled with duplicates, BATCH at a time with a commit after each. */
    function run(config: Partial<CausalOrdererConfig<number>>, batched: boolean, failAt = 0) {
      const store = MemoryStore.create();
      const storedOps = ops.map((op) => (store.ingest(op) as { operation: StoredOperation }).operation);
      storedOps.push(stored(bad, 10_000)); // the store would refuse it: delivered directly
      const delivery = shuffleWithDuplicates(storedOps, 13, 0.2);
      const reports: string[] = [];
      let prepared = 0;
      const prepare = () => {
        if (++prepared === failAt) throw new Error('prepare failed');
        return prepared;
      };
      const orderer = new CausalOrderer<number>({ store, prepare, onReport: (r) => reports.push(r.type), ...config });
      const out: OrderedOperation<number>[] = [];
      const thrown: string[] = [];
      const attempt = (f: () => OrderedOperation<number>[]) => {
        try {
          out.push(...f());
        } catch (err) {
          thrown.push((err as Error).message);
        }
      };
      for (let at = 0; at < delivery.length; at += BATCH) {
        const batch = delivery.slice(at, at + BATCH);
        if (batched) attempt(() => orderer.processAll(batch));
        else for (const op of batch) attempt(() => orderer.process(op));
        orderer.commit();
      }
      for (let round = 0; round < 50; round++) {
        attempt(() => orderer.start());
        orderer.commit();
      }
      const released = out.map((o) => [o.operation.hash.toHex(), o.lamport, o.prepared]);
      return { released, reports, thrown, stats: orderer.stats() };
    }

    const cases: [string, Partial<CausalOrdererConfig<number>>, number][] = [
      ['malformed, duplicates, overflow and scans, forgetting within a batch', { maxPending: 40, maxHashes: 256, maxReleasedCache: 20 }, 0],
      ['a small table: forgetting to make room within a batch', { maxPending: 300, maxHashes: 96, maxReleasedCache: 1000 }, 0],
      ['autoAck: acknowledged after each operation, so forgetting keeps nothing', { autoAck: true, maxHashes: 128, maxReleasedCache: 50 }, 0],
      ['a prepare that throws: the rest of the batch is handled, what was released comes with the next call', {}, 280],
    ];
    for (const [name, config, failAt] of cases) {
      test(name, () => {
        const one = run(config, false, failAt);
        const batched = run(config, true, failAt);
        assert.deepEqual(batched, one);
        const hashes = new Set(one.released.map(([h]) => h));
        assert.ok(one.reports.includes('rejected') && one.reports.includes('duplicate'));
        if (failAt > 0) assert.deepEqual(one.thrown, ['prepare failed']);
        else assert.equal(hashes.size, ops.length);
      });
    }
  });

  test('what a batch released before a callback threw is not acknowledged by commit until it is returned: a restart brings it again', () => {
    const store = MemoryStore.create();
    const storedOps = makeHistory(41, { authors: 3, operations: 60 }).map((op) => (store.ingest(op) as { operation: StoredOperation }).operation);
    let prepared = 0;
    const orderer = new CausalOrderer({ store, prepare: () => (++prepared === 20 ? assert.fail('prepare failed') : prepared) });
    assert.throws(() => orderer.processAll(storedOps.slice(0, 40)), /prepare failed/);
    orderer.commit();
    orderer.flush();
    // A crash here: the 19 released before the exception were never returned, so they come again.
    const restarted = new CausalOrderer({ store });
    assert.deepEqual(hexes(restarted.start()).slice(0, 19), hexes(storedOps.slice(0, 19).map((operation) => ({ operation, lamport: 0 }))));
    // Without the crash, the next call returns them first, then acknowledges them.
    const next = orderer.processAll(storedOps.slice(40));
    assert.deepEqual(hexes(next.slice(0, 19)), hexes(storedOps.slice(0, 19).map((operation) => ({ operation, lamport: 0 }))));
    orderer.commit();
    orderer.flush();
    assert.ok(!hexes(new CausalOrderer({ store }).start()).includes(storedOps[0].hash.toHex()));
  });

  test('a flood of operations waiting for what never comes does not fill the table: what is ready is still released', () => {
    const reports: ProcessorReport[] = [];
    const orderer = new CausalOrderer({ store: MemoryStore.create(), maxPending: 4, maxHashes: 64, onReport: (r) => reports.push(r) });
    let seq = 0;
    for (let i = 0; i < 200; i++) {
      const never = Hash.digest(new Uint8Array([i, i >> 8, 0xee]));
      assert.deepEqual(orderer.process(stored(causal(1, 0, undefined, [never], i), ++seq)), []);
    }
    assert.ok(reports.filter((r) => r.type === 'overflow').length >= 190);
    for (let i = 0; i < 20; i++) {
      const ready = causal(2 + i, 0, undefined, []);
      assert.deepEqual(hexes(orderer.process(stored(ready, ++seq))), [ready.hash.toHex()]);
    }
    assert.equal(orderer.stats().pending, 4);
  });

  test('node table: a lookup miss spares the probe of the intern right after, and a stale one is probed again', () => {
    const t = new NodeTable();
    const hashes = Array.from({ length: 5000 }, (_, i) => Hash.digest(new Uint8Array([i, i >> 8, 0x5a])).bytes);
    for (let i = 0; i < hashes.length; i += 2) {
      const a = hashes[i];
      const b = hashes[i + 1];
      const missA = t.lookup(a, slotOf(a));
      const missB = t.lookup(b, slotOf(b));
      assert.ok(missA < 0 && missB < 0);
      assert.equal(t.intern(b, slotOf(b), missB), i); // fresh: inserted where the lookup stopped
      assert.equal(t.intern(a, slotOf(a), missA), i + 1); // stale (b went in, maybe a rehash): probed again
    }
    for (let i = 0; i < hashes.length; i += 2) {
      assert.equal(t.find(hashes[i + 1]), i);
      assert.equal(t.find(hashes[i]), i + 1);
    }
    assert.equal(t.size, hashes.length);
  });

  test('rejects a bad configuration with a typed error', () => {
    assert.throws(
      () => new CausalOrderer({ store: MemoryStore.create(), maxPending: 0 }),
      (err) => isWalkawayError(err, 'INVALID_ARGUMENT'),
    );
  });

  const factories = storeFactories();
  after(() => factories.forEach((f) => f.cleanup()));
  for (const factory of factories) {
    test(`restart resumes from the store without loss (${factory.kind})`, () => {
      const ops = makeHistory(21, { authors: 3, operations: 80 });
      let store = factory.open();
      for (const op of ops) assert.equal(store.ingest(op).status, 'inserted');
      const storedOps = store.operationsAfter(0, 1000);
      const delivery = shuffleWithDuplicates(storedOps, 4, 0);
      const first = new CausalOrderer({ store, batchSize: 7 });
      const seen: OrderedOperation[] = [];
      for (const op of delivery.slice(0, 50)) {
        seen.push(...first.process(op));
        first.commit();
      }
      // Crash: no flush. Acknowledged but unwritten releases come again.
      store = factory.reopen(store);
      const second = new CausalOrderer({ store, batchSize: 7 });
      const replayed = second.start();
      second.commit();
      const again = new Set(hexes(replayed));
      const firstRun = new Set(hexes(seen));
      // At-least-once: everything the first run released is released (again) or was acknowledged.
      const union = new Set([...firstRun, ...again]);
      assert.equal(union.size, ops.length, 'every stored operation is released after the restart');
      assertCausal(replayed, firstRun);
      assert.ok(again.size >= ops.length - firstRun.size, 'unacknowledged releases come again');
      // Delivering the rest after the restart releases nothing new (all were found in the store).
      const late = delivery.slice(50).flatMap((op) => second.process(op));
      assert.equal(late.length, 0);
      second.flush();
      store = factory.reopen(store);
      const third = new CausalOrderer({ store });
      assert.deepEqual(third.start(), [], 'after a flush nothing is owed');
      assert.equal(third.stats().watermark, ops.length);
      store.close();
    });
  }
});

describe('acknowledging one release out of order', () => {
  test('ack(localSeq) settles that release only; the others come again after a restart', () => {
    const store = MemoryStore.create();
    const ops = [1, 2, 3].map((author) => causal(author, 0, undefined, []));
    for (const op of ops) assert.equal(store.ingest(op).status, 'inserted');
    const [first, middle, last] = store.operationsAfter(0, 10);
    const orderer = new CausalOrderer({ store });
    const released = [first, middle, last].flatMap((op) => orderer.process(op));
    assert.equal(released.length, 3);
    orderer.ack(middle.localSeq);
    orderer.ack(middle.localSeq); // twice: no effect
    orderer.ack(12345); // never released: no effect
    orderer.flush();
    const again = new CausalOrderer({ store }).start();
    assert.deepEqual(hexes(again).sort(), [first, last].map((op) => op.hash.toHex()).sort());
  });
});

describe('node table', () => {
  test('hashes crafted to share all but a few bytes still spread over the slots', () => {
    // An author may list any 32-byte values in `previous`; equal prefixes must not pile up in one probe run.
    const slots = new Set<number>();
    for (let i = 0; i < 4096; i++) {
      const bytes = new Uint8Array(32).fill(0xab);
      bytes[31] = i & 0xff;
      bytes[30] = i >>> 8;
      slots.add(slotOf(bytes) & 4095);
    }
    // A uniform spread of 4,096 keys over 4,096 slots fills about 63% of them.
    assert.ok(slots.size > 2400, `only ${slots.size} distinct slots`);
  });
});
