/**
 * A seeded model of a group under partitions, in the style of p2panda's
 * `auth_group` fuzz target: 12 actors, each with its own replica, over 6
 * rounds. Each round splits the actors into random partitions; every actor
 * proposes valid random actions from its own view (add, remove, promote,
 * demote, leave; sometimes with an expiry; sometimes nesting a subgroup),
 * then syncs within its partition. After a full sync every replica must
 * hold the same members and levels, and so must fresh replicas fed the
 * whole graph in other causal orders, one at a time or as one batch.
 */
import { toHex } from '../../src/core/index.ts';
import { GroupState, MANAGE, type Access, type AuthOp, type GroupAction, type Member } from '../../src/auth/index.ts';
import { Seeded, causalShuffle, key, snapshot } from './helpers.ts';

export const ACTORS = 12;
export const ROUNDS = 6;
const LATE = 1e12; // the time at which the final states are compared

export interface ModelOutcome {
  seed: number;
  ok: boolean;
  operations: number;
  ignored: number;
  refusedLocally: number;
  detail?: string;
}

interface Replica {
  name: string;
  id: string;
  state: GroupState;
  known: Set<string>;
}

export function runModel(seed: number): ModelOutcome {
  const rng = new Seeded(seed * 7919 + 1);
  const all: AuthOp[] = []; // in creation order, a causal order
  let counter = 0;
  let refusedLocally = 0;
  const replicas: Replica[] = Array.from({ length: ACTORS }, (_, i) => ({ name: `a${i}`, id: key(`a${i}`), state: new GroupState(), known: new Set() }));
  const individual = (r: Replica): Member => ({ kind: 'individual', id: r.id });
  const make = (author: Replica, action: GroupAction, time: number): AuthOp => ({
    id: toHex(new Uint8Array(32).map((_, i) => (i < 4 ? (seed >>> (i * 8)) & 0xff : i < 8 ? (counter >>> ((i - 4) * 8)) & 0xff : 0))),
    author: author.id,
    deps: author.state.heads(),
    timestamp: time,
    action,
  });
  const propose = (author: Replica, action: GroupAction, time: number): boolean => {
    counter++;
    const op = make(author, action, time);
    const r = author.state.propose(op);
    if (r.type !== 'applied') {
      refusedLocally++;
      return false;
    }
    author.known.add(op.id);
    all.push(op);
    return true;
  };
  const sync = (group: Replica[]) => {
    const batch = rng.below(2) === 0;
    for (const r of group) {
      const missing = all.filter((op) => !r.known.has(op.id) && group.some((o) => o.known.has(op.id)));
      if (batch) r.state.applyAll(missing);
      else for (const op of missing) r.state.apply(op);
      for (const op of missing) r.known.add(op.id);
    }
  };

  // The root group G (a0 creates it with two more managers and a few others) and a subgroup H (a1's).
  const grants = (names: number[], level: () => number) => names.map((i) => ({ member: individual(replicas[i]), access: { level: level() } }));
  propose(replicas[0], { type: 'create', members: [...grants([0], () => MANAGE), ...grants([1, 2], () => MANAGE), ...grants([3, 4, 5], () => rng.below(3))] }, 1);
  propose(replicas[1], { type: 'create', members: [...grants([1], () => MANAGE), ...grants([6, 7], () => rng.below(4))] }, 2);
  sync(replicas);
  const groupIds = [all[0].id, all[1].id];

  for (let round = 1; round <= ROUNDS; round++) {
    const parts = 1 + rng.below(3);
    const partitions: Replica[][] = Array.from({ length: parts }, () => []);
    for (const r of replicas) partitions[rng.below(parts)].push(r);
    for (const part of partitions) {
      for (const actor of rng.shuffle([...part])) {
        const count = 1 + rng.below(2);
        for (let k = 0; k < count; k++) {
          const time = round * 1000 + counter;
          let action: GroupAction | null = null;
          for (let tries = 0; tries < 4 && !action; tries++) action = randomAction(actor, replicas, groupIds, time, rng);
          if (action) propose(actor, action, time);
        }
      }
      sync(part);
    }
  }
  sync(replicas);

  const expected = snapshot(replicas[0].state, LATE);
  const outcome = (ok: boolean, detail?: string): ModelOutcome => ({
    seed,
    ok,
    operations: all.length,
    ignored: replicas[0].state.ignored().size,
    refusedLocally,
    detail,
  });
  for (const r of replicas) {
    const got = snapshot(r.state, LATE);
    if (got !== expected) return outcome(false, `replica ${r.name} differs from a0:\n${got}\n---\n${expected}`);
  }
  const shuffled = causalShuffle(all, rng);
  const one = new GroupState();
  for (const op of shuffled) one.apply(op);
  if (snapshot(one, LATE) !== expected)
    return outcome(false, `a fresh replica fed one at a time in another causal order differs:\n${snapshot(one, LATE)}\n---\n${expected}`);
  const batch = new GroupState();
  batch.applyAll(causalShuffle(all, rng));
  if (snapshot(batch, LATE) !== expected) return outcome(false, 'a fresh replica fed one batch in another causal order differs');
  return outcome(true);
}

/** A valid action from `actor`'s own view, or null when it has nothing it may do. */
function randomAction(actor: Replica, replicas: Replica[], groupIds: string[], time: number, rng: Seeded): GroupAction | null {
  const state = actor.state;
  const group = rng.pick(groupIds);
  const mine = state.access(group, actor.id, time);
  const direct = state.directMembers(group);
  if (!mine) return null;
  if (mine.level < MANAGE) {
    return direct.has(`i:${actor.id}`) && rng.below(4) === 0 ? { type: 'remove', group, member: { kind: 'individual', id: actor.id } } : null;
  }
  const access = (min: number, max: number): Access => {
    const level = min + rng.below(max - min + 1);
    return rng.below(6) === 0 ? { level, expires: time + 500 + rng.below(4000) } : { level };
  };
  const members = [...direct.entries()];
  const choice = rng.below(10);
  if (choice < 4 || members.length === 0) {
    const outsiders: Member[] = replicas.filter((r) => !direct.has(`i:${r.id}`)).map((r) => ({ kind: 'individual', id: r.id }));
    const sub = groupIds[1];
    if (group === groupIds[0] && !direct.has(`g:${sub}`)) outsiders.push({ kind: 'group', id: sub });
    if (outsiders.length === 0) return null;
    return { type: 'add', group, member: rng.pick(outsiders), access: access(0, MANAGE) };
  }
  const [k, current] = rng.pick(members);
  const member: Member = { kind: k.startsWith('i:') ? 'individual' : 'group', id: k.slice(2) };
  if (choice < 7) return { type: 'remove', group, member };
  if (choice < 9 && current.level < MANAGE) return { type: 'promote', group, member, access: access(current.level + 1, MANAGE) };
  if (current.level > 0) return { type: 'demote', group, member, access: { level: rng.below(current.level) } };
  return null;
}
