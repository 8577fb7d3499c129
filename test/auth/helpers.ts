/**
 * Hand-drawn auth graphs: operations named by labels, actors by letters,
 * and a seeded generator of causal delivery orders.
 */
import { Hash, toHex, utf8 } from '../../src/core/index.ts';
import { GroupState, MANAGE, type Access, type AuthOp, type GroupAction, type Member } from '../../src/auth/index.ts';

/** A 64-hex-character key for an actor's name. */
export function key(name: string): string {
  return Hash.digest(utf8(`actor/${name}`)).toHex();
}

export const ind = (name: string): Member => ({ kind: 'individual', id: key(name) });

/** A small seeded PRNG (mulberry32): tests never use Math.random. */
export class Seeded {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

/** Builds operations by label: `g.op('1', 'A', ['0'], action)`. Group ids are create labels' ids. */
export class Graph {
  readonly ops: AuthOp[] = [];
  readonly #ids = new Map<string, string>();

  id(label: string): string {
    const id = this.#ids.get(label);
    if (!id) throw new Error(`no operation ${label}`);
    return id;
  }

  op(label: string, author: string, deps: string[], action: GroupAction | ((g: Graph) => GroupAction), timestamp = 1000): AuthOp {
    const id = toHex(Hash.digest(utf8(`op/${label}`)).bytes);
    this.#ids.set(label, id);
    const op: AuthOp = { id, author: key(author), deps: deps.map((d) => this.id(d)), timestamp, action: typeof action === 'function' ? action(this) : action };
    this.ops.push(op);
    return op;
  }

  create(label: string, author: string, grants: [Member, number][], deps: string[] = []): AuthOp {
    return this.op(label, author, deps, { type: 'create', members: grants.map(([member, level]) => ({ member, access: { level } })) });
  }

  add(label: string, author: string, deps: string[], group: string, member: Member, access: Access | number): AuthOp {
    return this.op(label, author, deps, (g) => ({ type: 'add', group: g.id(group), member, access: typeof access === 'number' ? { level: access } : access }));
  }

  remove(label: string, author: string, deps: string[], group: string, member: Member): AuthOp {
    return this.op(label, author, deps, (g) => ({ type: 'remove', group: g.id(group), member }));
  }

  promote(label: string, author: string, deps: string[], group: string, member: Member, level = MANAGE): AuthOp {
    return this.op(label, author, deps, (g) => ({ type: 'promote', group: g.id(group), member, access: { level } }));
  }

  demote(label: string, author: string, deps: string[], group: string, member: Member, level: number): AuthOp {
    return this.op(label, author, deps, (g) => ({ type: 'demote', group: g.id(group), member, access: { level } }));
  }
}

/** A random topological order of `ops` (which are listed in some causal order). */
export function causalShuffle(ops: readonly AuthOp[], rng: Seeded): AuthOp[] {
  const byId = new Map(ops.map((o) => [o.id, o]));
  const done = new Set<string>();
  const out: AuthOp[] = [];
  const waiting = [...ops];
  while (waiting.length > 0) {
    const ready = waiting.filter((o) => o.deps.every((d) => done.has(d) || !byId.has(d)));
    const pick = rng.pick(ready);
    waiting.splice(waiting.indexOf(pick), 1);
    done.add(pick.id);
    out.push(pick);
  }
  return out;
}

/** Applies `ops` one at a time (each may re-resolve) and returns the state. */
export function replay(ops: readonly AuthOp[]): GroupState {
  const state = new GroupState();
  for (const op of ops) {
    const r = state.apply(op);
    if (r.type === 'rejected') throw r.error;
  }
  return state;
}

/** Every group's direct members and levels, and every op's status: what must converge. */
export function snapshot(state: GroupState, time = 1000): string {
  const groups = state.groups().sort();
  const out: string[] = [];
  for (const g of groups) {
    const direct = [...state.directMembers(g)].map(([k, a]) => `${k}=${a.level}/${a.expires ?? '-'}`).sort();
    const all = [...state.members(g, { time })].map(([k, a]) => `${k}=${a.level}`).sort();
    out.push(`${g.slice(0, 8)} direct[${direct.join(',')}] all[${all.join(',')}]`);
  }
  return out.join('\n');
}

/** The levels of the named actors in a group now ('-' for none). */
export function levels(state: GroupState, group: string, names: string[], time = 1000): Record<string, number | '-'> {
  const out: Record<string, number | '-'> = {};
  for (const n of names) out[n] = state.access(group, key(n), time)?.level ?? '-';
  return out;
}
