/**
 * The hand-drawn cases of strong removal. Each graph is applied in many
 * causal delivery orders, one operation at a time and as one batch; every
 * order must reach the same state, and the state must be the drawn one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupState, MANAGE, PULL, READ, WRITE, type GroupState as State } from '../../src/auth/index.ts';
import { Graph, Seeded, causalShuffle, ind, levels, replay, snapshot } from './helpers.ts';

function settle(g: Graph, orders = 24): State {
  const batch = new GroupState();
  const { results } = batch.applyAll(g.ops);
  for (const r of results) assert.equal(r.type, 'applied', `every operation is admitted: ${JSON.stringify(r)}`);
  const expected = snapshot(batch);
  const rng = new Seeded(7);
  for (let i = 0; i < orders; i++) assert.equal(snapshot(replay(causalShuffle(g.ops, rng))), expected, `delivery order ${i} converges`);
  return batch;
}

const ABC: [ReturnType<typeof ind>, number][] = [
  [ind('A'), MANAGE],
  [ind('B'), MANAGE],
  [ind('C'), MANAGE],
];

test('mutual removal: A removes B while B removes A; both leave, C stays', () => {
  //      0          0: A creates G (A, B, C manage)
  //    /   \        1: A removes B
  //   1     2       2: B removes A
  const g = new Graph();
  g.create('0', 'A', ABC);
  g.remove('1', 'A', ['0'], '0', ind('B'));
  g.remove('2', 'B', ['0'], '0', ind('A'));
  const s = settle(g);
  assert.deepEqual(levels(s, g.id('0'), ['A', 'B', 'C']), { A: '-', B: '-', C: MANAGE });
});

test('a removal cycle of three: everyone in the cycle leaves', () => {
  //        0          1: A removes B, 2: B removes C, 3: C removes A, all concurrent
  //      / | \        D (a fourth manager) is not in the cycle and stays
  //     1  2  3
  const g = new Graph();
  g.create('0', 'A', [...ABC, [ind('D'), MANAGE]]);
  g.remove('1', 'A', ['0'], '0', ind('B'));
  g.remove('2', 'B', ['0'], '0', ind('C'));
  g.remove('3', 'C', ['0'], '0', ind('A'));
  const s = settle(g);
  assert.deepEqual(levels(s, g.id('0'), ['A', 'B', 'C', 'D']), { A: '-', B: '-', C: '-', D: MANAGE });
});

test('a one-sided removal ignores the removed manager’s concurrent removal', () => {
  //      0          1: C removes B; 2: B removes A (concurrent, ignored): A stays
  //    /   \
  //   1     2
  const g = new Graph();
  g.create('0', 'A', ABC);
  g.remove('1', 'C', ['0'], '0', ind('B'));
  g.remove('2', 'B', ['0'], '0', ind('A'));
  const s = settle(g);
  assert.deepEqual(levels(s, g.id('0'), ['A', 'B', 'C']), { A: MANAGE, B: '-', C: MANAGE });
  assert.equal(s.status(g.id('2')), 'ignored');
  // A can still act: the ignored removal of A does not lock A out.
  g.add('3', 'A', ['1', '2'], '0', ind('E'), WRITE);
  const after = settle(g);
  assert.equal(after.access(g.id('0'), ind('E').id, 1000)?.level, WRITE);
});

test('concurrent re-add: a removal wins over a concurrent remove-and-add; a later re-add on top works', () => {
  //      0            1: A removes C
  //    /   \          2: B removes C, 3: B re-adds C (concurrent with 1: ignored)
  //   1     2         4: A adds C again, after both branches
  //   |     3
  //    \   /
  //      4
  const g = new Graph();
  g.create('0', 'A', ABC);
  g.remove('1', 'A', ['0'], '0', ind('C'));
  g.remove('2', 'B', ['0'], '0', ind('C'));
  g.add('3', 'B', ['2'], '0', ind('C'), WRITE);
  let s = settle(g);
  assert.deepEqual(levels(s, g.id('0'), ['A', 'B', 'C']), { A: MANAGE, B: MANAGE, C: '-' });
  assert.equal(s.status(g.id('3')), 'ignored');
  g.add('4', 'A', ['1', '3'], '0', ind('C'), READ);
  s = settle(g);
  assert.deepEqual(levels(s, g.id('0'), ['A', 'B', 'C']), { A: MANAGE, B: MANAGE, C: READ });
});

test('nested demotion: demoting a group ignores its devices’ concurrent management', () => {
  //   p: D1 creates person P (D1, D2 manage)
  //   0: A creates G (A manage, P manage), after p
  //   1: A demotes P to write             } concurrent
  //   2: D1 adds X (manage) to G via P    }
  //   3: X adds Y (depends on 2: falls transitively)
  const g = new Graph();
  g.create('p', 'D1', [
    [ind('D1'), MANAGE],
    [ind('D2'), MANAGE],
  ]);
  g.op('0', 'A', ['p'], (gr) => ({
    type: 'create',
    members: [
      { member: ind('A'), access: { level: MANAGE } },
      { member: { kind: 'group', id: gr.id('p') }, access: { level: MANAGE } },
    ],
  }));
  g.demote('1', 'A', ['0'], '0', { kind: 'group', id: g.id('p') }, WRITE);
  g.add('2', 'D1', ['0'], '0', ind('X'), MANAGE);
  g.add('3', 'X', ['2'], '0', ind('Y'), READ);
  const s = settle(g);
  assert.deepEqual(levels(s, g.id('0'), ['A', 'D1', 'D2', 'X', 'Y']), { A: MANAGE, D1: WRITE, D2: WRITE, X: '-', Y: '-' });
  assert.equal(s.status(g.id('2')), 'ignored');
  assert.equal(s.status(g.id('3')), 'ignored');
});

test('remove while adding: what the removed manager added, and what followed from it, is ignored', () => {
  //      0            1: A removes B
  //    /   \          2: B adds D (manage), 3: D adds E
  //   1     2         4: C adds F after everything: unaffected
  //   |     3
  //    \   /
  //      4
  const g = new Graph();
  g.create('0', 'A', ABC);
  g.remove('1', 'A', ['0'], '0', ind('B'));
  g.add('2', 'B', ['0'], '0', ind('D'), MANAGE);
  g.add('3', 'D', ['2'], '0', ind('E'), WRITE);
  g.add('4', 'C', ['1', '3'], '0', ind('F'), PULL);
  const s = settle(g);
  assert.deepEqual(levels(s, g.id('0'), ['A', 'B', 'C', 'D', 'E', 'F']), { A: MANAGE, B: '-', C: MANAGE, D: '-', E: '-', F: PULL });
});

test('a removed manager’s concurrent adds are all ignored; after seeing the removal it can add nothing', () => {
  const g = new Graph();
  g.create('0', 'A', ABC);
  g.remove('1', 'A', ['0'], '0', ind('B'));
  g.add('2', 'B', ['0'], '0', ind('X'), WRITE);
  g.add('3', 'B', ['2'], '0', ind('Y'), WRITE);
  g.promote('4', 'B', ['3'], '0', ind('Y'));
  const s = settle(g);
  assert.deepEqual(levels(s, g.id('0'), ['B', 'X', 'Y']), { B: '-', X: '-', Y: '-' });
  const late = g.add('5', 'B', ['1', '4'], '0', ind('Z'), WRITE);
  const r = s.apply(late);
  assert.equal(r.type, 'applied', 'B was once a manager: the operation enters the graph');
  assert.equal(s.status(late.id), 'ignored', 'but has no effect');
  assert.equal(s.access(g.id('0'), ind('Z').id, 1000), null);
});

test('a removal cycle through a delegation: everyone in the cycle leaves, the delegates never arrive', () => {
  //      0            1: A adds C (manage), 2: C removes B
  //    /   \          3: B adds D (manage), 4: D removes A
  //   1     3
  //   |     |
  //   2     4
  const g = new Graph();
  g.create('0', 'A', [
    [ind('A'), MANAGE],
    [ind('B'), MANAGE],
    [ind('Z'), MANAGE],
  ]);
  g.add('1', 'A', ['0'], '0', ind('C'), MANAGE);
  g.remove('2', 'C', ['1'], '0', ind('B'));
  g.add('3', 'B', ['0'], '0', ind('D'), MANAGE);
  g.remove('4', 'D', ['3'], '0', ind('A'));
  const s = settle(g);
  assert.deepEqual(levels(s, g.id('0'), ['A', 'B', 'C', 'D', 'Z']), { A: '-', B: '-', C: '-', D: '-', Z: MANAGE });
});

test('leaving is never ignored: a member demoted while leaving is gone', () => {
  const g = new Graph();
  g.create('0', 'A', [
    [ind('A'), MANAGE],
    [ind('B'), MANAGE],
  ]);
  g.demote('1', 'A', ['0'], '0', ind('B'), READ);
  g.remove('2', 'B', ['0'], '0', ind('B'));
  const s = settle(g);
  assert.deepEqual(levels(s, g.id('0'), ['A', 'B']), { A: MANAGE, B: '-' });
});

test('strangers cannot enter the graph; demoted members lose management', () => {
  const g = new Graph();
  g.create('0', 'A', ABC);
  const stranger = g.add('1', 'S', ['0'], '0', ind('T'), WRITE);
  const s = new GroupState();
  s.apply(g.ops[0]);
  const r = s.apply(stranger);
  assert.equal(r.type, 'rejected');
  assert.equal(r.type === 'rejected' && r.error.code, 'NOT_PERMITTED');
  assert.equal(s.size, 1, 'nothing stored');
});
