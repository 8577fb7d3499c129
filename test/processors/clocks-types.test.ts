import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createOperation, Hash, isWalkawayError, PublicKey, type Operation } from '../../src/core/index.ts';
import {
  advanceFrontier,
  CausalOrderer,
  compareFrontiers,
  encodeLwwWrite,
  frontierOf,
  GrowOnlySet,
  happenedBefore,
  lamportFrom,
  LogView,
  LwwMap,
  OperationDag,
  type OrderedOperation,
  type ProcessorReport,
} from '../../src/processors/index.ts';
import { MemoryStore } from '../../src/store/index.ts';
import { authorKey, LOG_ID } from './helpers.ts';

function op(author: number, seqNum: number, backlink: Hash | undefined, previous: Hash[], body: Uint8Array, ts = 1): Operation {
  return createOperation({
    privateKey: authorKey(author),
    seqNum,
    backlink,
    body,
    extensions: { variant: 'causal', logId: LOG_ID, timestamp: ts, previous },
  });
}

/**      a0 ── a1
 *        \
 *         b0 ── b1      (a1 and b1 concurrent; c0 joins both)
 *                 \
 *      c0 <── a1, b1
 */
function diamond() {
  const a0 = op(0, 0, undefined, [], encodeLwwWrite('k', 'a0'));
  const a1 = op(0, 1, a0.hash, [], encodeLwwWrite('k', 'a1'));
  const b0 = op(1, 0, undefined, [a0.hash], encodeLwwWrite('k', 'b0'));
  const b1 = op(1, 1, b0.hash, [], encodeLwwWrite('k', 'b1'));
  const c0 = op(2, 0, undefined, [a1.hash, b1.hash], encodeLwwWrite('k'));
  return { a0, a1, b0, b1, c0 };
}

function ordered(ops: Operation[]): OrderedOperation[] {
  const orderer = new CausalOrderer({ store: MemoryStore.create() });
  return ops.flatMap((o, i) => orderer.process({ ...o, localSeq: i + 1 }));
}

describe('clocks', () => {
  test('Lamport timestamps follow dependencies with the seqNum floor', () => {
    assert.equal(lamportFrom(0, []), 0);
    assert.equal(lamportFrom(3, [0]), 3);
    assert.equal(lamportFrom(0, [4, 2]), 5);
    const { a0, a1, b0, b1, c0 } = diamond();
    const out = ordered([c0, b1, b0, a1, a0]);
    const lamport = new Map(out.map((o) => [o.operation.hash.toHex(), o.lamport]));
    assert.deepEqual(
      [a0, a1, b0, b1, c0].map((o) => lamport.get(o.hash.toHex())),
      [0, 1, 1, 2, 3],
    );
  });

  test('frontiers compare as before, after, concurrent and equal', () => {
    const { a0, a1, b0, b1, c0 } = diamond();
    const dag = new OperationDag();
    for (const o of ordered([a0, a1, b0, b1, c0])) dag.process(o);
    assert.equal(compareFrontiers([a0.hash], [a1.hash], dag), 'before');
    assert.equal(compareFrontiers([a1.hash], [a0.hash], dag), 'after');
    assert.equal(compareFrontiers([a1.hash], [b1.hash], dag), 'concurrent');
    assert.equal(compareFrontiers([a1.hash, b1.hash], [c0.hash], dag), 'before');
    assert.equal(compareFrontiers([b1.hash, a1.hash], [a1.hash, b1.hash], dag), 'equal');
    assert.equal(compareFrontiers([a1.hash], [a1.hash, b1.hash], dag), 'before');
    assert.ok(happenedBefore(a0.hash, b1.hash, dag));
    assert.ok(!happenedBefore(a1.hash, b1.hash, dag));
  });

  test('advancing a frontier in causal order gives the DAG heads', () => {
    const { a0, a1, b0, b1, c0 } = diamond();
    let frontier: Hash[] = [];
    const dag = new OperationDag();
    for (const o of ordered([b1, a1, a0, b0])) {
      frontier = advanceFrontier(frontier, o.operation);
      dag.process(o);
    }
    assert.deepEqual(
      frontier.map((h) => h.toHex()),
      frontierOf([a1.hash, b1.hash]).map((h) => h.toHex()),
    );
    assert.deepEqual(
      dag.heads().map((h) => h.toHex()),
      frontier.map((h) => h.toHex()),
    );
    frontier = advanceFrontier(frontier, c0);
    assert.deepEqual(
      frontier.map((h) => h.toHex()),
      [c0.hash.toHex()],
    );
  });
});

describe('convergent types', () => {
  test('LWW map: causal successor wins, concurrent writes by Lamport, clock, author, hash; deletes are tombstones', () => {
    const { a0, a1, b0, b1, c0 } = diamond();
    const map = new LwwMap<string>();
    const changes = ordered([a0, a1, b0, b1]).flatMap((o) => map.process(o));
    assert.ok(changes.length >= 2);
    // a1 (Lamport 1) and b1 (Lamport 2) are concurrent: the larger Lamport wins.
    assert.equal(map.get('k'), 'b1');
    for (const o of ordered([a0, a1, b0, b1, c0])) map.process(o);
    assert.equal(map.has('k'), false);
    assert.deepEqual(map.entries(), []);
    // An old write arriving again changes nothing.
    assert.deepEqual(map.process(ordered([a0])[0]), []);

    const tie = new LwwMap<string>();
    const x = op(3, 0, undefined, [], encodeLwwWrite('t', 'x'), 5);
    const y = op(4, 0, undefined, [], encodeLwwWrite('t', 'y'), 5);
    const z = op(5, 0, undefined, [], encodeLwwWrite('t', 'z'), 4);
    for (const o of ordered([x, y, z])) tie.process(o);
    const authorOrder = [x, y].sort((p, q) => (p.header.publicKey.toHex() < q.header.publicKey.toHex() ? -1 : 1));
    assert.equal(tie.get('t'), authorOrder[1] === x ? 'x' : 'y', 'same Lamport and clock: the larger author wins');
  });

  test('LWW map reports a malformed body with a typed error', () => {
    const reports: ProcessorReport[] = [];
    const map = new LwwMap({ onReport: (r) => reports.push(r) });
    const bad = op(0, 0, undefined, [], new Uint8Array([0xff, 0x00]));
    assert.deepEqual(
      ordered([bad]).flatMap((o) => map.process(o)),
      [],
    );
    assert.ok(reports[0].type === 'rejected' && isWalkawayError(reports[0].error, 'MALFORMED'));
  });

  test('grow-only set keeps the union', () => {
    const s = new GrowOnlySet();
    const { a0, a1 } = diamond();
    const out = ordered([a0, a1, a0]).flatMap((o) => s.process(o));
    assert.equal(out.length, 2);
    assert.equal(s.size, 2);
    assert.ok(s.add('x', new Uint8Array([1])));
    assert.ok(!s.add('x', new Uint8Array([1])));
  });

  test('DAG: heads and a deterministic topological order, in any insertion order', () => {
    const { a0, a1, b0, b1, c0 } = diamond();
    const forward = new OperationDag();
    const backward = new OperationDag();
    const all = ordered([a0, a1, b0, b1, c0]);
    all.forEach((o) => forward.process(o));
    [...all].reverse().forEach((o) => backward.process(o));
    assert.deepEqual(forward.heads().map(String), [c0.hash.toHex()]);
    assert.deepEqual(backward.heads().map(String), [c0.hash.toHex()]);
    assert.deepEqual(forward.topological().map(String), backward.topological().map(String));
    assert.equal(forward.topological()[0].toHex(), a0.hash.toHex());
    assert.equal(forward.topological()[4].toHex(), c0.hash.toHex());
  });

  test('log view per author, with prune points in any order', () => {
    const view = new LogView();
    const author = PublicKey.fromBytes(new Uint8Array(32).fill(1));
    const h = (n: number) => Hash.digest(new Uint8Array([n]));
    assert.ok(view.add(author, LOG_ID, 3, h(3)));
    assert.ok(view.add(author, LOG_ID, 5, h(5), true));
    assert.ok(!view.add(author, LOG_ID, 1, h(1)));
    assert.ok(view.add(author, LOG_ID, 6, h(6)));
    assert.deepEqual(
      view.log(author, LOG_ID).map((e) => e.seqNum),
      [5, 6],
    );
    const other = new LogView();
    other.add(author, LOG_ID, 6, h(6));
    other.add(author, LOG_ID, 1, h(1));
    other.add(author, LOG_ID, 5, h(5), true);
    other.add(author, LOG_ID, 3, h(3));
    assert.deepEqual(other.snapshot(), view.snapshot());
  });
});
