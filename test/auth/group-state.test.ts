/**
 * Access levels, expiry, nesting, multi-device identities, bounds and the
 * change events, on small hand-built graphs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  GroupState,
  MANAGE,
  PULL,
  READ,
  WRITE,
  addDevice,
  createIdentity,
  devicesOf,
  grantIdentity,
  membershipView,
  removeDevice,
  type AuthOp,
  type GroupAction,
} from '../../src/auth/index.ts';
import { Graph, ind, key } from './helpers.ts';

/** A linear history: each operation depends on the previous one. */
class Chain {
  readonly state = new GroupState();
  #n = 0;
  do(author: string, action: GroupAction, timestamp = 1000): AuthOp {
    const op: AuthOp = { id: key(`chain/${this.#n++}`), author: key(author), deps: this.state.heads(), timestamp, action };
    const r = this.state.propose(op);
    if (r.type !== 'applied') throw r.type === 'rejected' ? r.error : new Error(r.type);
    return op;
  }
  try(author: string, action: GroupAction, timestamp = 1000) {
    const op: AuthOp = { id: key(`chain/${this.#n++}`), author: key(author), deps: this.state.heads(), timestamp, action };
    return this.state.propose(op);
  }
}

test('levels are ordered and only managers change membership; anyone may leave', () => {
  const c = new Chain();
  const g = c.do('A', {
    type: 'create',
    members: [
      { member: ind('A'), access: { level: MANAGE } },
      { member: ind('W'), access: { level: WRITE } },
    ],
  }).id;
  const byWriter = c.try('W', { type: 'add', group: g, member: ind('X'), access: { level: READ } });
  assert.equal(byWriter.type === 'rejected' && byWriter.error.code, 'NOT_PERMITTED');
  c.do('A', { type: 'add', group: g, member: ind('R'), access: { level: READ } });
  assert.ok(c.state.allows(g, key('W'), WRITE, 1000));
  assert.ok(c.state.allows(g, key('W'), PULL, 1000), 'write includes pull');
  assert.ok(!c.state.allows(g, key('R'), WRITE, 1000));
  c.do('R', { type: 'remove', group: g, member: ind('R') });
  assert.equal(c.state.access(g, key('R'), 1000), null);
  const dup = c.try('A', { type: 'add', group: g, member: ind('W'), access: { level: READ } });
  assert.equal(dup.type, 'rejected', 'adding a member twice');
  const up = c.try('A', { type: 'promote', group: g, member: ind('W'), access: { level: READ } });
  assert.equal(up.type, 'rejected', 'a promotion must raise');
});

test('expiry: a grant counts strictly before it expires, also for management', () => {
  const c = new Chain();
  const g = c.do('A', {
    type: 'create',
    members: [
      { member: ind('A'), access: { level: MANAGE } },
      { member: ind('M'), access: { level: MANAGE, expires: 5000 } },
    ],
  }).id;
  c.do('A', { type: 'add', group: g, member: ind('B'), access: { level: WRITE, expires: 2000 } });
  assert.ok(c.state.allows(g, key('B'), WRITE, 1999));
  assert.ok(!c.state.allows(g, key('B'), PULL, 2000));
  assert.equal(c.state.members(g, { time: 2000, minLevel: READ }).has(key('B')), false);
  c.do('M', { type: 'add', group: g, member: ind('C'), access: { level: READ } }, 4999);
  const late: AuthOp = {
    id: key('late'),
    author: key('M'),
    deps: c.state.heads(),
    timestamp: 5000,
    action: { type: 'add', group: g, member: ind('D'), access: { level: READ } },
  };
  assert.equal(c.state.propose(late).type, 'rejected', 'M may not propose it after expiry');
  assert.equal(c.state.apply(late).type, 'applied', 'M was granted manage once: a peer admits it');
  assert.equal(c.state.status(late.id), 'ignored', 'but without effect: it expired at its timestamp');
});

test('nesting: access through a group is capped by the group’s grant; cycles are refused', () => {
  const c = new Chain();
  const team = c.do('T', {
    type: 'create',
    members: [
      { member: ind('T'), access: { level: MANAGE } },
      { member: ind('U'), access: { level: MANAGE } },
    ],
  }).id;
  const g = c.do('A', {
    type: 'create',
    members: [
      { member: ind('A'), access: { level: MANAGE } },
      { member: { kind: 'group', id: team }, access: { level: WRITE } },
    ],
  }).id;
  assert.equal(c.state.access(g, key('U'), 1000)?.level, WRITE, 'capped at the team’s write');
  const readers = c.state.members(g, { time: 1000, minLevel: READ });
  assert.deepEqual([...readers.keys()].sort(), [key('A'), key('T'), key('U')].sort());
  const cycle = c.try('T', { type: 'add', group: team, member: { kind: 'group', id: g }, access: { level: READ } });
  assert.equal(cycle.type === 'rejected' && cycle.error.code, 'NOT_PERMITTED');
  const self = c.try('A', { type: 'add', group: g, member: { kind: 'group', id: g }, access: { level: READ } });
  assert.equal(self.type, 'rejected');
});

test('multi-device: a device added to a person gets the person’s access everywhere; a lost one loses it everywhere', () => {
  const c = new Chain();
  const person = c.do('phone', createIdentity([key('phone')])).id;
  const chat = c.do('A', { type: 'create', members: [{ member: ind('A'), access: { level: MANAGE } }] }).id;
  const notes = c.do('B', { type: 'create', members: [{ member: ind('B'), access: { level: MANAGE } }] }).id;
  c.do('A', grantIdentity(chat, person, { level: WRITE }));
  c.do('B', grantIdentity(notes, person, { level: READ }));
  c.do('phone', addDevice(person, key('laptop')));
  assert.deepEqual(devicesOf(c.state, person).sort(), [key('laptop'), key('phone')].sort());
  assert.equal(c.state.access(chat, key('laptop'), 1000)?.level, WRITE);
  assert.equal(c.state.access(notes, key('laptop'), 1000)?.level, READ);
  c.do('laptop', removeDevice(person, key('phone')));
  assert.equal(c.state.access(chat, key('phone'), 1000), null, 'the lost phone is out of the chat');
  assert.equal(c.state.access(notes, key('phone'), 1000), null, 'and out of the notes');
  assert.equal(c.state.access(chat, key('laptop'), 1000)?.level, WRITE);
});

test('change events name the member, its old and new access, and who changed it', () => {
  const c = new Chain();
  const g = c.do('A', { type: 'create', members: [{ member: ind('A'), access: { level: MANAGE } }] }).id;
  const op: AuthOp = {
    id: key('ev'),
    author: key('A'),
    deps: c.state.heads(),
    timestamp: 1000,
    action: { type: 'add', group: g, member: ind('B'), access: { level: READ } },
  };
  const r = c.state.apply(op);
  assert.equal(r.type, 'applied');
  assert.deepEqual(r.type === 'applied' && r.changes, [{ type: 'member', group: g, member: ind('B'), access: { level: READ }, previous: null, by: key('A') }]);
  // A concurrent removal re-resolves and reports the difference.
  const gr = new Graph();
  gr.create('0', 'A', [
    [ind('A'), MANAGE],
    [ind('B'), MANAGE],
  ]);
  gr.add('1', 'B', ['0'], '0', ind('C'), WRITE);
  gr.remove('2', 'A', ['0'], '0', ind('B'));
  const s = new GroupState();
  s.apply(gr.ops[0]);
  s.apply(gr.ops[1]);
  const after = s.apply(gr.ops[2]);
  assert.ok(after.type === 'applied' && after.rebuilt);
  const changed = after.type === 'applied' ? after.changes.map((ch) => [ch.member.id, ch.access?.level ?? null]) : [];
  assert.deepEqual(
    changed.sort(),
    [
      [key('B'), null],
      [key('C'), null],
    ].sort(),
  );
});

test('bounds: operations, members per group and groups are capped with TOO_LARGE; missing dependencies are NOT_FOUND', () => {
  const s = new GroupState({ maxOperations: 3, maxMembersPerGroup: 2, maxGroups: 2 });
  const g = new Graph();
  g.create('0', 'A', [[ind('A'), MANAGE]]);
  g.add('1', 'A', ['0'], '0', ind('B'), READ);
  g.add('2', 'A', ['1'], '0', ind('C'), READ);
  g.create('3', 'A', [[ind('A'), MANAGE]], ['1']);
  g.create('4', 'A', [[ind('A'), MANAGE]], ['3']);
  g.add('5', 'A', ['4'], '0', ind('D'), READ);
  const codes = s.applyAll(g.ops).results.map((r) => (r.type === 'rejected' ? r.error.code : r.type));
  assert.deepEqual(codes, ['applied', 'applied', 'TOO_LARGE', 'applied', 'TOO_LARGE', 'NOT_FOUND']);
  const orphan: AuthOp = { id: key('orphan'), author: key('A'), deps: [key('nowhere')], timestamp: 1, action: g.ops[1].action };
  const r = new GroupState().apply(orphan);
  assert.equal(r.type === 'rejected' && r.error.code, 'NOT_FOUND');
});

test('the encryption layer’s view: readers now, managers at an auth operation', () => {
  const c = new Chain();
  const g = c.do('A', {
    type: 'create',
    members: [
      { member: ind('A'), access: { level: MANAGE } },
      { member: ind('P'), access: { level: PULL } },
    ],
  });
  const promote = c.do('A', { type: 'add', group: g.id, member: ind('M'), access: { level: MANAGE } });
  c.do('A', { type: 'add', group: g.id, member: ind('R'), access: { level: READ } });
  const view = membershipView(c.state, g.id, () => 1000);
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  assert.deepEqual(view.readers().map(hex).sort(), [key('A'), key('M'), key('R')].sort(), 'pull members hold no secrets');
  assert.deepEqual(view.managersAt(Buffer.from(g.id, 'hex'))!.map(hex), [key('A')]);
  assert.deepEqual(view.managersAt(Buffer.from(promote.id, 'hex'))!.map(hex).sort(), [key('A'), key('M')].sort());
  assert.equal(view.managersAt(new Uint8Array(32)), undefined);
});
