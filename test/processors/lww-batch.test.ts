/**
 * `LwwMap.processAll`: a released batch applied in the order its writes were
 * prepared must end where `process` on each ends, report each changed key
 * once with its final value, and cope with handles it does not hold.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CausalOrderer, LwwMap, pipeline, type LwwChange, type OrderedOperation } from '../../src/processors/index.ts';
import { MemoryStore } from '../../src/store/index.ts';
import { asStored, makeHistory, shuffleWithDuplicates } from './helpers.ts';

const SEED = 20261202;

/** A map and an orderer preparing for it; every batch the orderer releases goes to `apply`. */
function run(map: LwwMap<string>, delivery: ReturnType<typeof asStored>, apply: (batch: OrderedOperation[]) => void): void {
  const orderer = new CausalOrderer<number>({ store: MemoryStore.create(), prepare: (op) => map.prepare(op), discard: (op, h) => map.discard(op, h) });
  for (const op of delivery) apply(orderer.process(op));
}

describe('LWW map batches', () => {
  test('processAll ends where process on each ends, for shuffles with duplicates, deletes and clock ties', () => {
    // Few keys and few clock values: many concurrent writes to one key, many ties broken by author and hash.
    const history = makeHistory(SEED, { authors: 6, operations: 1500, keys: ['a', 'b', 'c', 'd', 'e'], deletes: 0.2 });
    const reference = new LwwMap<string>();
    run(reference, asStored(history), (batch) => batch.forEach((o) => reference.process(o)));
    for (let s = 0; s < 4; s++) {
      const map = new LwwMap<string>();
      let biggest = 0;
      run(map, asStored(shuffleWithDuplicates(history, SEED + s, 0.2)), (batch) => {
        biggest = Math.max(biggest, batch.length);
        map.processAll(batch);
      });
      assert.ok(biggest >= 64, `shuffle ${s}: a batch large enough for the batch path (${biggest})`);
      assert.deepEqual(map.snapshot(), reference.snapshot(), `shuffle ${s}`);
    }
  });

  test('each key a batch changes is reported once, with its value after the batch', () => {
    const history = makeHistory(SEED + 1, { authors: 4, operations: 600, keys: ['x', 'y', 'z'] });
    const map = new LwwMap<string>();
    const orderer = new CausalOrderer<number>({ store: MemoryStore.create(), prepare: (op) => map.prepare(op) });
    // Everything but the first operation, then the first: one batch releases most of it.
    const stored = asStored(history);
    for (const op of stored.slice(1)) for (const o of orderer.process(op)) map.process(o);
    const before = new Map(['x', 'y', 'z'].map((k) => [k, map.entry(k)?.stamp.hash]));
    const batch = orderer.process(stored[0]);
    assert.ok(batch.length > 100, `a large batch (${batch.length})`);
    const changes: LwwChange<string>[] = map.processAll(batch);
    const keys = changes.map((c) => c.key);
    assert.equal(new Set(keys).size, keys.length, 'each key once');
    assert.deepEqual(
      keys.sort(),
      ['x', 'y', 'z'].filter((k) => map.entry(k)?.stamp.hash !== before.get(k)),
    );
    for (const c of changes) {
      const entry = map.entry(c.key)!;
      assert.equal(c.value, entry.value);
      assert.equal(c.deleted, entry.deleted);
      assert.deepEqual(c.stamp, entry.stamp);
    }
    // The same batch again changes nothing: every write is applied already.
    assert.deepEqual(map.processAll(batch), []);
  });

  test('handles the map does not hold (another map, none, one claimed twice) are read from the operation', () => {
    const history = makeHistory(SEED + 2, { authors: 3, operations: 300, keys: ['p', 'q'] });
    const reference = new LwwMap<string>();
    run(reference, asStored(history), (batch) => batch.forEach((o) => reference.process(o)));
    const other = new LwwMap<string>();
    const map = new LwwMap<string>();
    const orderer = new CausalOrderer<number>({ store: MemoryStore.create(), prepare: (op) => other.prepare(op) });
    const released = asStored(history).flatMap((op) => orderer.process(op));
    // Mix in: no handle, a handle of this map for another operation, and a duplicate claim.
    const mine = map.prepare(released[5].operation);
    const batch: OrderedOperation[] = released.map((o, i) => (i % 7 === 0 ? { operation: o.operation, lamport: o.lamport } : o));
    batch.push({ ...released[9], prepared: mine }, { ...released[9], prepared: mine }, released[5]);
    map.processAll(batch);
    assert.deepEqual(map.snapshot(), reference.snapshot());
  });

  test('handles that are not handles (fractions, negative, past the end, not numbers) are read from the operation', () => {
    const history = makeHistory(SEED + 3, { authors: 3, operations: 200, keys: ['p', 'q', 'r'] });
    const reference = new LwwMap<string>();
    run(reference, asStored(history), (batch) => batch.forEach((o) => reference.process(o)));
    const orderer = new CausalOrderer({ store: MemoryStore.create() });
    const released = asStored(history).flatMap((op) => orderer.process(op));
    for (const apply of ['process', 'processAll'] as const) {
      const map = new LwwMap<string>();
      const handles = released.map((o) => map.prepare(o.operation));
      // Past the end: within the last chunk of the slab, and far beyond anything reserved.
      const bogus = (h: number) => [h + 1e-9, h / 3, -1, handles.length, handles.length + 5000, 2 ** 40, Number.NaN, String(h), null];
      const batch = released.map((o, i) => ({ ...o, prepared: i % 2 === 0 ? bogus(handles[i])[(i >> 1) % 9] : handles[i] }));
      for (let k = 0; k < 9; k++) map.discard(released[0].operation, bogus(handles[0])[k]); // ignored: not handles it holds
      if (apply === 'processAll') map.processAll(batch);
      else batch.forEach((o) => map.process(o));
      assert.deepEqual(map.snapshot(), reference.snapshot(), apply);
      // Prepared writes given to no one stay with the map; the next ones get new handles and apply as before.
      const again = released.map((o) => ({ ...o, prepared: map.prepare(o.operation) }));
      map.processAll(again);
      assert.deepEqual(map.snapshot(), reference.snapshot(), `${apply}, then again`);
    }
  });

  test('a batch of few of many prepared writes (sorted, not scanned) ends where process on each ends', () => {
    const history = makeHistory(SEED + 4, { authors: 5, operations: 2000, keys: ['k', 'l', 'm'] });
    const map = new LwwMap<string>();
    const reference = new LwwMap<string>();
    // Every write prepared, so the batch below covers far fewer than a sixteenth of the handles.
    const inputs: OrderedOperation[] = asStored(history).map((op, i) => ({ operation: op, lamport: i % 37, prepared: map.prepare(op) }));
    const batch = inputs.filter((_, i) => i % 20 === 3).reverse();
    assert.ok(batch.length >= 64 && batch.length * 16 < inputs.length, `${batch.length} of ${inputs.length}`);
    for (const o of batch) reference.process({ operation: o.operation, lamport: o.lamport });
    map.processAll(batch);
    assert.deepEqual(map.snapshot(), reference.snapshot());
  });

  test('a pipeline hands a stage with processAll the whole cascade', () => {
    const history = makeHistory(SEED + 3, { authors: 4, operations: 400 });
    const reference = new LwwMap<string>();
    run(reference, asStored(history), (batch) => batch.forEach((o) => reference.process(o)));
    const map = new LwwMap<string>();
    let batches = 0;
    const counting = { name: 'count', process: (o: OrderedOperation) => [o], processAll: (all: readonly OrderedOperation[]) => (batches++, [...all]) };
    const p = pipeline(new CausalOrderer<number>({ store: MemoryStore.create(), prepare: (op) => map.prepare(op) }), counting, map);
    const stored = asStored(history);
    for (const op of [...stored.slice(1), stored[0]]) p.process(op);
    assert.equal(batches, 1, 'one cascade, one batch');
    assert.deepEqual(map.snapshot(), reference.snapshot());
  });
});
