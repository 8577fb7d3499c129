/**
 * The group-membership CRDT: a set of auth operations forming a causal graph,
 * and the membership of every group it defines, as a pure function of that
 * graph (the same for every delivery order that respects causality).
 *
 * Three questions decide what counts, each a function of an operation's
 * causal past only, so none depends on arrival order:
 * - Admission: an operation enters the graph if its group (and any group it
 *   names) exists at its dependencies and its author was ever granted the
 *   access it needs there. This is monotone, so it never changes later; it
 *   keeps strangers from filling the graph. Refused operations never enter.
 * - Raw validity: the author could make it at its dependencies, counting
 *   every raw-valid operation there. Only raw-valid removals can ignore
 *   others (strong-removal.ts), so a forged removal ignores nothing.
 * - Effect: strong removal marks concurrent actions of removed or demoted
 *   members as ignored, except removals caught in a mutual-removal cycle.
 *   Then, in topological order, an operation is effective if it is not
 *   ignored and its author could still make it at its dependencies counting
 *   only effective operations, so whatever leaned on an ignored action
 *   falls with it (transitive invalidation).
 *
 * A member's direct access at a set of operations is settled by the latest
 * effective operations naming it there: a removal among them wins, else the
 * narrower grant. An operation that extends every head (the common case)
 * costs a few lookups; one that is concurrent with others re-resolves the
 * graph, which is linear in the operations and the removals among them.
 */
import { WalkawayError } from '../core/index.ts';
import { Ancestry } from './ancestry.ts';
import { resolveStrongRemoval, type ResolvedIgnores } from './strong-removal.ts';
import {
  DEFAULT_GROUP_STATE_CONFIG,
  MANAGE,
  PULL,
  accessEqual,
  compareAccess,
  liveAt,
  memberKey,
  memberOfKey,
  narrower,
  type Access,
  type ApplyResult,
  type AuthOp,
  type GroupStateConfig,
  type MemberChange,
} from './types.ts';

/** Which operations a query counts: every admitted one, or only the effective ones. */
export type Mode = 'raw' | 'final';
/**
 * The part of the graph a query looks at: the strict ancestors of the
 * operation with this index, every operation (`ALL`), or a predicate.
 */
export type Past = number | ((index: number) => boolean);

interface AuthNode {
  op: AuthOp;
  group: string;
  raw: boolean;
  effective: boolean;
  /** What the operation sets each member key it names to (null: removed). */
  effects: Map<string, Access | null>;
}

function nodeOf(op: AuthOp, group: string): AuthNode {
  const a = op.action;
  const effects = new Map<string, Access | null>();
  if (a.type === 'create') for (const g of a.members) effects.set(memberKey(g.member), g.access);
  else effects.set(memberKey(a.member), a.type === 'remove' ? null : a.access);
  return { op, group, raw: false, effective: false, effects };
}

const ALL = Number.POSITIVE_INFINITY;

export class GroupState {
  readonly config: GroupStateConfig;
  readonly #anc = new Ancestry();
  readonly #nodes: AuthNode[] = [];
  readonly #byId = new Map<string, number>();
  readonly #heads = new Set<number>();
  /** group → member key → indices of the operations that set that member's direct access. */
  readonly #touches = new Map<string, Map<string, number[]>>();
  /** group → ids of the groups ever named as its members. */
  readonly #subgroups = new Map<string, string[]>();
  /** group → author → indices of the author's operations on that group. */
  readonly #byAuthor = new Map<string, Map<string, number[]>>();
  readonly #created = new Map<string, number>();
  /** group → member key → direct access at the heads, effective operations only. */
  #current = new Map<string, Map<string, Access>>();
  #ignores: ResolvedIgnores = { ignored: new Map(), mutual: new Set() };

  constructor(config: Partial<GroupStateConfig> = {}) {
    this.config = { ...DEFAULT_GROUP_STATE_CONFIG, ...config };
  }

  get size(): number {
    return this.#nodes.length;
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  heads(): string[] {
    return [...this.#heads].sort((a, b) => a - b).map((i) => this.#nodes[i].op.id);
  }

  groups(): string[] {
    return [...this.#created.keys()];
  }

  /** 'effective', 'ignored' (in the graph, without effect), or undefined (never admitted). */
  status(id: string): 'effective' | 'ignored' | undefined {
    const i = this.#byId.get(id);
    return i === undefined ? undefined : this.#nodes[i].effective ? 'effective' : 'ignored';
  }

  /**
   * Applies a local author's new operation only if it takes effect: its
   * dependencies must be the current heads, and it must be valid there
   * counting effective operations. Otherwise nothing is stored and the
   * result says why, so an app never publishes an action that would be
   * ignored (apply() would admit it, without effect, from a once-manager).
   */
  propose(op: AuthOp): ApplyResult {
    const heads = this.heads();
    if (op.deps.length !== heads.length || op.deps.some((d) => !heads.includes(d))) {
      return { type: 'rejected', id: op.id, error: new WalkawayError('INVALID_ARGUMENT', 'a proposed auth operation must depend on exactly the current heads') };
    }
    if (this.#byId.has(op.id)) return { type: 'duplicate', id: op.id };
    const index = this.#anc.add(op.deps.map((d) => this.#byId.get(d)!));
    const group = op.action.type === 'create' ? op.id : op.action.group;
    this.#nodes.push(nodeOf(op, group));
    const error = this.#admissible(index) ?? this.check(index, 'final');
    this.#nodes.pop();
    this.#anc.pop();
    return error ? { type: 'rejected', id: op.id, error } : this.apply(op);
  }

  /** Applies one operation delivered after all of its dependencies. */
  apply(op: AuthOp): ApplyResult {
    return this.applyAll([op]).results[0];
  }

  /**
   * Applies operations in a causal order and resolves once at the end: a
   * batch costs one resolution however many of its operations are concurrent.
   */
  applyAll(ops: readonly AuthOp[]): { results: ApplyResult[]; changes: MemberChange[] } {
    const results: ApplyResult[] = [];
    const fast: number[] = [];
    const resultOf = new Map<number, number>();
    let rebuild = false;
    for (const op of ops) {
      const r = this.#admit(op);
      if (typeof r !== 'number') {
        results.push(r);
        continue;
      }
      if (!rebuild && this.#anc.prefix(r) === r) fast.push(r);
      else rebuild = true;
      results.push({ type: 'applied', id: op.id, rebuilt: false, changes: [] });
      resultOf.set(r, results.length - 1);
    }
    let changes: MemberChange[] = [];
    if (rebuild) {
      changes = this.#resolve();
      for (const r of results) if (r.type === 'applied') r.rebuilt = true;
    } else {
      for (const i of fast) {
        const node = this.#nodes[i];
        node.effective = this.check(i, 'final') === null;
        const own = node.effective ? this.#refresh(node) : [];
        const result = results[resultOf.get(i)!] as Extract<ApplyResult, { type: 'applied' }>;
        result.changes = own;
        changes.push(...own);
      }
    }
    if (rebuild && results.length === 1 && results[0].type === 'applied') results[0].changes = changes;
    return { results, changes };
  }

  /** Numbers and stores `op` if its dependencies are here and it is valid at them; else a refusal. */
  #admit(op: AuthOp): number | ApplyResult {
    if (this.#byId.has(op.id)) return { type: 'duplicate', id: op.id };
    const refuse = (error: WalkawayError): ApplyResult => ({ type: 'rejected', id: op.id, error });
    const deps: number[] = [];
    for (const d of op.deps) {
      const i = this.#byId.get(d);
      if (i === undefined) return refuse(new WalkawayError('NOT_FOUND', `auth dependency ${d} is not applied yet`, { dependency: d }));
      deps.push(i);
    }
    if (this.#nodes.length >= this.config.maxOperations) {
      return refuse(new WalkawayError('TOO_LARGE', `the auth state holds ${this.config.maxOperations} operations, its limit`));
    }
    const a = op.action;
    const group = a.type === 'create' ? op.id : a.group;
    const named = namedKeys(op);
    const touched = this.#touches.get(group);
    const fresh = named.filter((k) => !touched?.has(k)).length;
    if ((touched?.size ?? 0) + fresh > this.config.maxMembersPerGroup) {
      return refuse(new WalkawayError('TOO_LARGE', `group ${group} would name more than ${this.config.maxMembersPerGroup} members`));
    }
    if (a.type === 'create' && this.#created.size >= this.config.maxGroups) {
      return refuse(new WalkawayError('TOO_LARGE', `the auth state holds ${this.config.maxGroups} groups, its limit`));
    }
    const index = this.#anc.add(deps);
    const node = nodeOf(op, group);
    this.#nodes.push(node);
    const error = this.#admissible(index);
    if (error) {
      this.#nodes.pop();
      this.#anc.pop();
      return refuse(error);
    }
    node.raw = this.check(index, 'raw') === null;
    this.#byId.set(op.id, index);
    for (const d of deps) this.#heads.delete(d);
    this.#heads.add(index);
    if (a.type === 'create') this.#created.set(group, index);
    const byMember = this.#touches.get(group) ?? new Map<string, number[]>();
    this.#touches.set(group, byMember);
    for (const key of named) {
      const list = byMember.get(key) ?? [];
      if (list.length === 0) byMember.set(key, list);
      list.push(index);
      if (key.startsWith('g:') && list.length === 1) {
        const subs = this.#subgroups.get(group) ?? [];
        subs.push(key.slice(2));
        this.#subgroups.set(group, subs);
      }
    }
    const authors = this.#byAuthor.get(group) ?? new Map<string, number[]>();
    this.#byAuthor.set(group, authors);
    const mine = authors.get(op.author) ?? [];
    if (mine.length === 0) authors.set(op.author, mine);
    mine.push(index);
    return index;
  }

  /** Why operation `index` may not enter the graph at all; null if it may. */
  #admissible(index: number): WalkawayError | null {
    const { op, group } = this.#nodes[index];
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
      (this.#touches.get(g)?.get(key) ?? []).some((i) => this.#in(past, i) && (this.#nodes[i].effects.get(key)?.level ?? -1) >= level);
    if (grants(`i:${individual}`, group)) return true;
    if (path.length > this.config.maxDepth) return false;
    for (const sub of this.#subgroups.get(group) ?? []) {
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
    const { op, group } = this.#nodes[index];
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

  #in(past: Past, i: number): boolean {
    return typeof past === 'number' ? past === ALL || this.#anc.before(i, past) : past(i);
  }

  groupExists(group: string, past: Past): boolean {
    const i = this.#created.get(group);
    return i !== undefined && this.#in(past, i);
  }

  /**
   * A member's own grant in `group` (no nesting) at `past`: the latest
   * counted operations naming it decide; a removal among concurrent ones
   * wins, else the narrower grant.
   */
  directAccess(group: string, key: string, past: Past, mode: Mode): Access | null {
    const list = this.#touches.get(group)?.get(key);
    if (!list) return null;
    const latest: number[] = [];
    let covered = -1; // every index below this is an ancestor of a chosen one
    for (let k = list.length - 1; k >= 0; k--) {
      const i = list[k];
      if (i < covered) break;
      if (!this.#in(past, i) || !(mode === 'final' ? this.#nodes[i].effective : this.#nodes[i].raw)) continue;
      if (latest.some((c) => this.#anc.before(i, c))) continue;
      latest.push(i);
      if (this.#anc.prefix(i) > covered) covered = this.#anc.prefix(i);
    }
    let result: Access | null = null;
    for (const i of latest) {
      const effect = this.#nodes[i].effects.get(key);
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
    for (const sub of this.#subgroups.get(group) ?? []) {
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
      for (const sub of this.#subgroups.get(g) ?? []) {
        if (seen.has(sub) || !this.directAccess(g, `g:${sub}`, past, mode)) continue;
        seen.add(sub);
        stack.push(sub);
      }
    }
    return false;
  }

  /** Strong removal, then the effective operations in topological order, then the new heads state. */
  #resolve(): MemberChange[] {
    this.#ignores = resolveStrongRemoval(this.#view());
    const { ignored, mutual } = this.#ignores;
    let first = this.#nodes.length;
    for (const i of ignored.keys()) first = Math.min(first, i);
    for (const i of mutual) first = Math.min(first, i);
    // Members whose operations so far differ between raw-valid and effective ("group key").
    const dirty = new Set<string>();
    for (let i = 0; i < this.#nodes.length; i++) {
      const node = this.#nodes[i];
      // Before the first ignored or exempt operation, counting effective operations is counting raw-valid ones.
      if (i < first || mutual.has(i)) node.effective = node.raw;
      else if (ignored.has(i)) node.effective = false;
      else if (this.#readsOnlyClean(node, dirty)) node.effective = node.raw;
      else node.effective = this.check(i, 'final') === null;
      if (node.effective !== node.raw) for (const key of namedKeys(node.op)) dirty.add(`${node.group} ${key}`);
    }
    const before = this.#current;
    this.#current = new Map();
    const changes: MemberChange[] = [];
    for (const [group, byMember] of this.#touches) {
      const now = new Map<string, Access>();
      this.#current.set(group, now);
      for (const key of byMember.keys()) {
        const access = this.directAccess(group, key, ALL, 'final');
        if (access) now.set(key, access);
        const previous = before.get(group)?.get(key) ?? null;
        if (!accessEqual(access, previous)) changes.push({ type: 'member', group, member: memberOfKey(key), access, previous });
      }
    }
    return changes;
  }

  /**
   * Whether checking `node` counting effective operations would read only
   * members whose operations are all as raw-valid as they are effective, so
   * that the answer is its raw validity. Nesting is not traced: a group
   * with subgroups is always checked.
   */
  #readsOnlyClean(node: AuthNode, dirty: Set<string>): boolean {
    const a = node.op.action;
    if (a.type === 'create') return true;
    if (a.member.kind === 'group' || (this.#subgroups.get(node.group)?.length ?? 0) > 0) return false;
    return !dirty.has(`${node.group} ${memberKey(a.member)}`) && !dirty.has(`${node.group} i:${node.op.author}`);
  }

  /** After an operation that extends every head: the members it names, now. */
  #refresh(node: AuthNode): MemberChange[] {
    const keys = namedKeys(node.op);
    const now = this.#current.get(node.group) ?? new Map<string, Access>();
    this.#current.set(node.group, now);
    const changes: MemberChange[] = [];
    for (const key of keys) {
      const access = this.directAccess(node.group, key, ALL, 'final');
      const previous = now.get(key) ?? null;
      if (access) now.set(key, access);
      else now.delete(key);
      if (!accessEqual(access, previous)) {
        changes.push({ type: 'member', group: node.group, member: memberOfKey(key), access, previous, by: node.op.author });
      }
    }
    return changes;
  }

  #view() {
    return {
      nodes: this.#nodes,
      ancestry: this.#anc,
      touches: this.#touches,
      byAuthor: this.#byAuthor,
      subgroups: this.#subgroups,
      maxDepth: this.config.maxDepth,
      memberAt: (group: string, individual: string, index: number) =>
        this.accessOf(group, individual, index, 'raw', Number.NEGATIVE_INFINITY) !== null,
    };
  }

  // ---- queries at the heads (effective operations only) ----

  /** Direct members of `group` now, without nesting. */
  directMembers(group: string): Map<string, Access> {
    return new Map(this.#current.get(group) ?? []);
  }

  /**
   * Every individual with access to `group` at `time`, through nested groups
   * too, at `minLevel` or above; `at` (operation ids) selects the state after
   * those operations instead of the heads. Read access or more means holding
   * the group's secrets (the encryption layer's recipients).
   */
  members(group: string, options: { time: number; minLevel?: number; at?: readonly string[] }): Map<string, Access> {
    const past = options.at ? this.#pastOf(options.at) : ALL;
    const min = options.minLevel ?? PULL;
    const out = new Map<string, Access>();
    const visit = (g: string, cap: Access | null, path: string[]) => {
      for (const [key, list] of this.#touches.get(g) ?? []) {
        if (list.length === 0) continue;
        const own = past === ALL ? (this.#current.get(g)?.get(key) ?? null) : this.directAccess(g, key, past, 'final');
        if (!own || !liveAt(own, options.time)) continue;
        const access = cap ? narrower(cap, own) : own;
        if (!liveAt(access, options.time) || access.level < min) continue;
        if (key.startsWith('i:')) {
          const id = key.slice(2);
          const had = out.get(id);
          if (!had || compareAccess(access, had) > 0) out.set(id, access);
        } else if (path.length <= this.config.maxDepth && !path.includes(key.slice(2)) && this.groupExists(key.slice(2), past)) {
          visit(key.slice(2), access, [...path, key.slice(2)]);
        }
      }
    };
    visit(group, null, [group]);
    return out;
  }

  /** An individual's access to `group` now (nesting included), or null. */
  access(group: string, individual: string, time: number): Access | null {
    return this.accessOf(group, individual, ALL, 'final', time);
  }

  /** Whether `individual` holds at least `level` in `group` at `time`. */
  allows(group: string, individual: string, level: number, time: number): boolean {
    const a = this.access(group, individual, time);
    return a !== null && a.level >= level;
  }

  /** The operation ids that strong removal ignored, each with the removal that caused it. */
  ignored(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [i, by] of this.#ignores.ignored) out.set(this.#nodes[i].op.id, this.#nodes[by].op.id);
    return out;
  }

  #pastOf(ids: readonly string[]): (i: number) => boolean {
    const at = ids.map((id) => {
      const i = this.#byId.get(id);
      if (i === undefined) throw new WalkawayError('NOT_FOUND', `no auth operation ${id}`);
      return i;
    });
    return (i) => at.some((h) => h === i || this.#anc.before(i, h));
  }
}

/** The member keys an operation sets. */
function namedKeys(op: AuthOp): string[] {
  const a = op.action;
  return a.type === 'create' ? a.members.map((g) => memberKey(g.member)) : [memberKey(a.member)];
}

