/**
 * The auth graph and the questions asked of it: admitted operations with
 * their ancestry and indexes (by group and member, by group and author),
 * admission, validity at an operation's own dependencies, and a member's
 * access at any part of the graph. GroupState (group-state.ts) decides
 * which operations are effective and keeps the state at the heads.
 */
import { WalkawayError } from '../core/index.ts';
import { Ancestry } from './ancestry.ts';
import type { StrongRemovalView } from './strong-removal.ts';
import { MANAGE, compareAccess, liveAt, memberKey, narrower, type Access, type ApplyResult, type AuthOp, type GroupStateConfig } from './types.ts';

/** Which operations a query counts: every admitted one, or only the effective ones. */
export type Mode = 'raw' | 'final';
/**
 * The part of the graph a query looks at: the strict ancestors of the
 * operation with this index, every operation (`ALL`), or a predicate.
 */
export type Past = number | ((index: number) => boolean);

export interface AuthNode {
  op: AuthOp;
  group: string;
  raw: boolean;
  effective: boolean;
  /** What the operation sets each member key it names to (null: removed). */
  effects: Map<string, Access | null>;
}

export function nodeOf(op: AuthOp, group: string): AuthNode {
  const a = op.action;
  const effects = new Map<string, Access | null>();
  if (a.type === 'create') for (const g of a.members) effects.set(memberKey(g.member), g.access);
  else effects.set(memberKey(a.member), a.type === 'remove' ? null : a.access);
  return { op, group, raw: false, effective: false, effects };
}

/** Every operation (a `Past`). */
export const ALL = Number.POSITIVE_INFINITY;

export class AuthGraph {
  readonly anc = new Ancestry();
  readonly nodes: AuthNode[] = [];
  readonly byId = new Map<string, number>();
  readonly heads = new Set<number>();
  /** group → member key → indices of the operations that set that member's direct access. */
  readonly touches = new Map<string, Map<string, number[]>>();
  /** group → ids of the groups ever named as its members. */
  readonly subgroups = new Map<string, string[]>();
  /** group → author → indices of the author's operations on that group. */
  readonly byAuthor = new Map<string, Map<string, number[]>>();
  readonly created = new Map<string, number>();

  constructor(readonly config: GroupStateConfig) {}

  /** Numbers and stores `op` if its dependencies are here and it is valid at them; else a refusal. */
  admit(op: AuthOp): number | ApplyResult {
    if (this.byId.has(op.id)) return { type: 'duplicate', id: op.id };
    const refuse = (error: WalkawayError): ApplyResult => ({ type: 'rejected', id: op.id, error });
    const deps: number[] = [];
    for (const d of op.deps) {
      const i = this.byId.get(d);
      if (i === undefined) return refuse(new WalkawayError('NOT_FOUND', `auth dependency ${d} is not applied yet`, { dependency: d }));
      deps.push(i);
    }
    if (this.nodes.length >= this.config.maxOperations) {
      return refuse(new WalkawayError('TOO_LARGE', `the auth state holds ${this.config.maxOperations} operations, its limit`));
    }
    const a = op.action;
    const group = a.type === 'create' ? op.id : a.group;
    const named = namedKeys(op);
    const touched = this.touches.get(group);
    const fresh = named.filter((k) => !touched?.has(k)).length;
    if ((touched?.size ?? 0) + fresh > this.config.maxMembersPerGroup) {
      return refuse(new WalkawayError('TOO_LARGE', `group ${group} would name more than ${this.config.maxMembersPerGroup} members`));
    }
    if (a.type === 'create' && this.created.size >= this.config.maxGroups) {
      return refuse(new WalkawayError('TOO_LARGE', `the auth state holds ${this.config.maxGroups} groups, its limit`));
    }
    const index = this.anc.add(deps);
    const node = nodeOf(op, group);
    this.nodes.push(node);
    const error = this.admissible(index);
    if (error) {
      this.nodes.pop();
      this.anc.pop();
      return refuse(error);
    }
    node.raw = this.check(index, 'raw') === null;
    this.byId.set(op.id, index);
    for (const d of deps) this.heads.delete(d);
    this.heads.add(index);
    if (a.type === 'create') this.created.set(group, index);
    const byMember = this.touches.get(group) ?? new Map<string, number[]>();
    this.touches.set(group, byMember);
    for (const key of named) {
      const list = byMember.get(key) ?? [];
      if (list.length === 0) byMember.set(key, list);
      list.push(index);
      if (key.startsWith('g:') && list.length === 1) {
        const subs = this.subgroups.get(group) ?? [];
        subs.push(key.slice(2));
        this.subgroups.set(group, subs);
      }
    }
    const authors = this.byAuthor.get(group) ?? new Map<string, number[]>();
    this.byAuthor.set(group, authors);
    const mine = authors.get(op.author) ?? [];
    if (mine.length === 0) authors.set(op.author, mine);
    mine.push(index);
    return index;
  }

  /** Why operation `index` may not enter the graph at all; null if it may. */
  admissible(index: number): WalkawayError | null {
    const { op, group } = this.nodes[index];
    const a = op.action;
    const past: Past = index;
    const refuse = (why: string) => new WalkawayError('NOT_PERMITTED', `${a.type} by ${op.author}: ${why}`, { id: op.id, group });
    const named = a.type === 'create' ? a.members.map((g) => g.member) : [a.member];
    for (const m of named) {
      if (m.kind === 'group' && (m.id === group || !this.groupExists(m.id, past))) return refuse(`names group ${m.id}, unknown at its dependencies`);
    }
    if (a.type === 'create') return null;
    if (!this.groupExists(group, past)) return refuse(`group ${group} does not exist at its dependencies`);
    const self = a.type === 'remove' && a.member.kind === 'individual' && a.member.id === op.author;
    if (!this.#everGranted(group, op.author, self ? 0 : MANAGE, past, [group])) {
      return refuse(self ? 'never a member of the group' : 'never a manager of the group');
    }
    return null;
  }

  /** Whether any admitted operation in `past` ever granted `individual` `level` in `group`, nesting included. */
  #everGranted(group: string, individual: string, level: number, past: Past, path: string[]): boolean {
    const grants = (key: string, g: string) =>
      (this.touches.get(g)?.get(key) ?? []).some((i) => this.in(past, i) && (this.nodes[i].effects.get(key)?.level ?? -1) >= level);
    if (grants(`i:${individual}`, group)) return true;
    if (path.length > this.config.maxDepth) return false;
    for (const sub of this.subgroups.get(group) ?? []) {
      if (path.includes(sub) || !grants(`g:${sub}`, group)) continue;
      if (this.#everGranted(sub, individual, level, past, [...path, sub])) return true;
    }
    return false;
  }

  /**
   * Why operation `index` is not valid at its own dependencies, counting
   * every admitted operation ('raw') or only the effective ones ('final');
   * null if it is valid.
   */
  check(index: number, mode: Mode): WalkawayError | null {
    const { op, group } = this.nodes[index];
    const a = op.action;
    const past: Past = index;
    const refuse = (why: string) => new WalkawayError('NOT_PERMITTED', `${a.type} by ${op.author}: ${why}`, { id: op.id, group });
    if (a.type === 'create') {
      for (const g of a.members) {
        if (g.member.kind === 'group' && !this.groupExists(g.member.id, past)) return refuse(`names group ${g.member.id}, unknown at its dependencies`);
      }
      return null;
    }
    if (!this.groupExists(group, past)) return refuse(`group ${group} does not exist at its dependencies`);
    const current = this.directAccess(group, memberKey(a.member), past, mode);
    const selfRemoval = a.type === 'remove' && a.member.kind === 'individual' && a.member.id === op.author;
    if (!selfRemoval) {
      const own = this.accessOf(group, op.author, past, mode, op.timestamp);
      if (!own || own.level < MANAGE) return refuse('the author does not manage the group');
    }
    switch (a.type) {
      case 'add':
        if (current) return refuse('already a member');
        if (a.member.kind === 'group') {
          if (!this.groupExists(a.member.id, past)) return refuse(`group ${a.member.id} does not exist at its dependencies`);
          if (a.member.id === group || this.#reaches(a.member.id, group, past, mode)) return refuse('the nesting would form a cycle');
        }
        return null;
      case 'remove':
        return current ? null : refuse('not a member');
      case 'promote':
        return current && compareAccess(a.access, current) > 0 ? null : refuse('not a member with lower access');
      case 'demote':
        return current && compareAccess(a.access, current) < 0 ? null : refuse('not a member with higher access');
    }
  }

  in(past: Past, i: number): boolean {
    return typeof past === 'number' ? past === ALL || this.anc.before(i, past) : past(i);
  }

  groupExists(group: string, past: Past): boolean {
    const i = this.created.get(group);
    return i !== undefined && this.in(past, i);
  }

  /**
   * A member's own grant in `group` (no nesting) at `past`: the latest
   * counted operations naming it decide; a removal among concurrent ones
   * wins, else the narrower grant.
   */
  directAccess(group: string, key: string, past: Past, mode: Mode): Access | null {
    const list = this.touches.get(group)?.get(key);
    if (!list) return null;
    const latest: number[] = [];
    let covered = -1; // every index below this is an ancestor of a chosen one
    for (let k = list.length - 1; k >= 0; k--) {
      const i = list[k];
      if (i < covered) break;
      if (!this.in(past, i) || !(mode === 'final' ? this.nodes[i].effective : this.nodes[i].raw)) continue;
      if (latest.some((c) => this.anc.before(i, c))) continue;
      latest.push(i);
      if (this.anc.prefix(i) > covered) covered = this.anc.prefix(i);
    }
    let result: Access | null = null;
    for (const i of latest) {
      const effect = this.nodes[i].effects.get(key);
      if (!effect) return null;
      if (!result || compareAccess(effect, result) < 0) result = effect;
    }
    return result;
  }

  /**
   * An individual's access to `group` at `past` and `time`: its own grant or
   * one through nested groups (each capped by the grant of the group it
   * passes), the widest that is live at `time`; at most `maxDepth` groups deep.
   */
  accessOf(group: string, individual: string, past: Past, mode: Mode, time: number, path: string[] = [group]): Access | null {
    let best = this.directAccess(group, `i:${individual}`, past, mode);
    if (best && !liveAt(best, time)) best = null;
    if (path.length > this.config.maxDepth) return best;
    for (const sub of this.subgroups.get(group) ?? []) {
      if (path.includes(sub) || !this.groupExists(sub, past)) continue;
      const grant = this.directAccess(group, `g:${sub}`, past, mode);
      if (!grant || !liveAt(grant, time) || (best && compareAccess(grant, best) <= 0)) continue;
      const inner = this.accessOf(sub, individual, past, mode, time, [...path, sub]);
      if (!inner) continue;
      const capped = narrower(grant, inner);
      if (!best || compareAccess(capped, best) > 0) best = capped;
    }
    return best;
  }

  /** Whether `to` is `from` or nested in it, at `past`. */
  #reaches(from: string, to: string, past: Past, mode: Mode): boolean {
    const seen = new Set<string>([from]);
    const stack = [from];
    while (stack.length > 0) {
      const g = stack.pop()!;
      if (g === to) return true;
      for (const sub of this.subgroups.get(g) ?? []) {
        if (seen.has(sub) || !this.directAccess(g, `g:${sub}`, past, mode)) continue;
        seen.add(sub);
        stack.push(sub);
      }
    }
    return false;
  }

  view(): StrongRemovalView {
    return {
      nodes: this.nodes,
      ancestry: this.anc,
      touches: this.touches,
      byAuthor: this.byAuthor,
      subgroups: this.subgroups,
      maxDepth: this.config.maxDepth,
      memberAt: (group: string, individual: string, index: number) => this.accessOf(group, individual, index, 'raw', Number.NEGATIVE_INFINITY) !== null,
    };
  }

  pastOf(ids: readonly string[]): (i: number) => boolean {
    const at = ids.map((id) => {
      const i = this.byId.get(id);
      if (i === undefined) throw new WalkawayError('NOT_FOUND', `no auth operation ${id}`);
      return i;
    });
    return (i) => at.some((h) => h === i || this.anc.before(i, h));
  }
}

/** The member keys an operation sets. */
export function namedKeys(op: AuthOp): string[] {
  const a = op.action;
  return a.type === 'create' ? a.members.map((g) => memberKey(g.member)) : [memberKey(a.member)];
}
