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
import { ALL, AuthGraph, namedKeys, nodeOf, type AuthNode } from './auth-graph.ts';
import { resolveStrongRemoval, type ResolvedIgnores } from './strong-removal.ts';
import {
  DEFAULT_GROUP_STATE_CONFIG,
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

export class GroupState {
  readonly #g: AuthGraph;
  /** group → member key → direct access at the heads, effective operations only. */
  #current = new Map<string, Map<string, Access>>();
  #ignores: ResolvedIgnores = { ignored: new Map(), mutual: new Set() };

  constructor(config: Partial<GroupStateConfig> = {}) {
    this.#g = new AuthGraph({ ...DEFAULT_GROUP_STATE_CONFIG, ...config });
  }

  get config(): GroupStateConfig {
    return this.#g.config;
  }

  get size(): number {
    return this.#g.nodes.length;
  }

  has(id: string): boolean {
    return this.#g.byId.has(id);
  }

  heads(): string[] {
    return [...this.#g.heads].sort((a, b) => a - b).map((i) => this.#g.nodes[i].op.id);
  }

  groups(): string[] {
    return [...this.#g.created.keys()];
  }

  /** 'effective', 'ignored' (in the graph, without effect), or undefined (never admitted). */
  status(id: string): 'effective' | 'ignored' | undefined {
    const i = this.#g.byId.get(id);
    return i === undefined ? undefined : this.#g.nodes[i].effective ? 'effective' : 'ignored';
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
    if (this.#g.byId.has(op.id)) return { type: 'duplicate', id: op.id };
    const index = this.#g.anc.add(op.deps.map((d) => this.#g.byId.get(d)!));
    const group = op.action.type === 'create' ? op.id : op.action.group;
    this.#g.nodes.push(nodeOf(op, group));
    const error = this.#g.admissible(index) ?? this.#g.check(index, 'final');
    this.#g.nodes.pop();
    this.#g.anc.pop();
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
      const r = this.#g.admit(op);
      if (typeof r !== 'number') {
        results.push(r);
        continue;
      }
      if (!rebuild && this.#g.anc.prefix(r) === r) fast.push(r);
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
        const node = this.#g.nodes[i];
        node.effective = this.#g.check(i, 'final') === null;
        const own = node.effective ? this.#refresh(node) : [];
        const result = results[resultOf.get(i)!] as Extract<ApplyResult, { type: 'applied' }>;
        result.changes = own;
        changes.push(...own);
      }
    }
    if (rebuild && results.length === 1 && results[0].type === 'applied') results[0].changes = changes;
    return { results, changes };
  }

  /** Strong removal, then the effective operations in topological order, then the new heads state. */
  #resolve(): MemberChange[] {
    this.#ignores = resolveStrongRemoval(this.#g.view());
    const { ignored, mutual } = this.#ignores;
    let first = this.#g.nodes.length;
    for (const i of ignored.keys()) first = Math.min(first, i);
    for (const i of mutual) first = Math.min(first, i);
    // Members whose operations so far differ between raw-valid and effective ("group key").
    const dirty = new Set<string>();
    for (let i = 0; i < this.#g.nodes.length; i++) {
      const node = this.#g.nodes[i];
      // Before the first ignored or exempt operation, counting effective operations is counting raw-valid ones.
      if (i < first || mutual.has(i)) node.effective = node.raw;
      else if (ignored.has(i)) node.effective = false;
      else if (this.#readsOnlyClean(node, dirty)) node.effective = node.raw;
      else node.effective = this.#g.check(i, 'final') === null;
      if (node.effective !== node.raw) for (const key of namedKeys(node.op)) dirty.add(`${node.group} ${key}`);
    }
    const before = this.#current;
    this.#current = new Map();
    const changes: MemberChange[] = [];
    for (const [group, byMember] of this.#g.touches) {
      const now = new Map<string, Access>();
      this.#current.set(group, now);
      for (const key of byMember.keys()) {
        const access = this.#g.directAccess(group, key, ALL, 'final');
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
    if (a.member.kind === 'group' || (this.#g.subgroups.get(node.group)?.length ?? 0) > 0) return false;
    return !dirty.has(`${node.group} ${memberKey(a.member)}`) && !dirty.has(`${node.group} i:${node.op.author}`);
  }

  /** After an operation that extends every head: the members it names, now. */
  #refresh(node: AuthNode): MemberChange[] {
    const keys = namedKeys(node.op);
    const now = this.#current.get(node.group) ?? new Map<string, Access>();
    this.#current.set(node.group, now);
    const changes: MemberChange[] = [];
    for (const key of keys) {
      const access = this.#g.directAccess(node.group, key, ALL, 'final');
      const previous = now.get(key) ?? null;
      if (access) now.set(key, access);
      else now.delete(key);
      if (!accessEqual(access, previous)) {
        changes.push({ type: 'member', group: node.group, member: memberOfKey(key), access, previous, by: node.op.author });
      }
    }
    return changes;
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
    const past = options.at ? this.#g.pastOf(options.at) : ALL;
    const min = options.minLevel ?? PULL;
    const out = new Map<string, Access>();
    const visit = (g: string, cap: Access | null, path: string[]) => {
      for (const [key, list] of this.#g.touches.get(g) ?? []) {
        if (list.length === 0) continue;
        const own = past === ALL ? (this.#current.get(g)?.get(key) ?? null) : this.#g.directAccess(g, key, past, 'final');
        if (!own || !liveAt(own, options.time)) continue;
        const access = cap ? narrower(cap, own) : own;
        if (!liveAt(access, options.time) || access.level < min) continue;
        if (key.startsWith('i:')) {
          const id = key.slice(2);
          const had = out.get(id);
          if (!had || compareAccess(access, had) > 0) out.set(id, access);
        } else if (path.length <= this.config.maxDepth && !path.includes(key.slice(2)) && this.#g.groupExists(key.slice(2), past)) {
          visit(key.slice(2), access, [...path, key.slice(2)]);
        }
      }
    };
    visit(group, null, [group]);
    return out;
  }

  /**
   * An individual's access to `group` at `time` (nesting included), or null;
   * `at` (operation ids) selects the state after those operations instead
   * of the heads (an empty list: before any).
   */
  access(group: string, individual: string, time: number, at?: readonly string[]): Access | null {
    return this.#g.accessOf(group, individual, at ? this.#g.pastOf(at) : ALL, 'final', time);
  }

  /** The ids among `ids` that no other of them follows (unknown ids are dropped). */
  maximal(ids: readonly string[]): string[] {
    const known = [...new Set(ids)].map((id) => this.#g.byId.get(id)).filter((i): i is number => i !== undefined);
    return known
      .filter((i) => !known.some((j) => this.#g.anc.before(i, j)))
      .sort((a, b) => a - b)
      .map((i) => this.#g.nodes[i].op.id);
  }

  /** Whether `individual` holds at least `level` in `group` at `time`. */
  allows(group: string, individual: string, level: number, time: number): boolean {
    const a = this.access(group, individual, time);
    return a !== null && a.level >= level;
  }

  /** The operation ids that strong removal ignored, each with the removal that caused it. */
  ignored(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [i, by] of this.#ignores.ignored) out.set(this.#g.nodes[i].op.id, this.#g.nodes[by].op.id);
    return out;
  }

  /** Whether admitted operation `id` is one of `at` or happened before one of them. */
  precedes(id: string, at: readonly string[]): boolean {
    const i = this.#g.byId.get(id);
    if (i === undefined) return false;
    return at.some((h) => {
      const j = this.#g.byId.get(h);
      return j !== undefined && (i === j || this.#g.anc.before(i, j));
    });
  }

  /** The author and timestamp of an admitted operation. */
  authorOf(id: string): { author: string; timestamp: number } | undefined {
    const i = this.#g.byId.get(id);
    return i === undefined ? undefined : { author: this.#g.nodes[i].op.author, timestamp: this.#g.nodes[i].op.timestamp };
  }
}
