/**
 * Strong removal: which admitted operations are ignored because of a
 * concurrent removal. A removal (or a demotion below manage) of member M in
 * group G ignores, among the operations of G concurrent with it:
 * - every operation authored by M, or by an individual who was in M (when
 *   M is a group, e.g. a person's devices) at that operation's dependencies,
 *   except leaving (removing oneself), which is always allowed;
 * - every add of M (a concurrent re-add does not undo the removal).
 * Operations after the removal on its own branch are untouched, so removing
 * and later re-adding someone works.
 *
 * Mutual removals: if A removes B while B removes A, each would ignore the
 * other and both would stay. Instead, a removal is exempt when its target
 * can reach its author through an authority graph (who removes, demotes,
 * adds or promotes to manage whom) built from the removals and delegations
 * of its group that are connected to it by concurrency; all of those
 * removals apply, so everyone in the cycle leaves. Whether an exempt
 * removal counts is decided before anything is ignored, so the exemption
 * cannot depend on the order of evaluation.
 *
 * Everything here is a function of the graph (admitted operations and
 * their ancestry), never of arrival order. What the ignoring invalidates
 * transitively is settled by the caller (group-state.ts), which revalidates
 * in topological order.
 */
import type { Ancestry } from './ancestry.ts';
import { MANAGE, memberKey, type AuthOp, type Member } from './types.ts';

export interface StrongRemovalView {
  /** `raw`: valid at its dependencies counting every raw-valid operation; only those can ignore others. */
  nodes: readonly { op: AuthOp; group: string; raw: boolean }[];
  ancestry: Ancestry;
  touches: ReadonlyMap<string, ReadonlyMap<string, number[]>>;
  byAuthor: ReadonlyMap<string, ReadonlyMap<string, number[]>>;
  subgroups: ReadonlyMap<string, string[]>;
  maxDepth: number;
  /** Whether `individual` was in `group` (nesting included) at the dependencies of operation `index`. */
  memberAt(group: string, individual: string, index: number): boolean;
}

export interface ResolvedIgnores {
  /** ignored operation → the removal that ignores it (the one with the smallest id). */
  ignored: Map<number, number>;
  /** removals exempt from being ignored: they are part of a mutual-removal cycle. */
  mutual: Set<number>;
}

/** The member an operation removes or demotes below manage, if it does. */
export function removedBy(op: AuthOp): Member | null {
  const a = op.action;
  if (a.type === 'remove') return a.member;
  if (a.type === 'demote' && a.access.level < MANAGE) return a.member;
  return null;
}

/** The member an operation makes a manager, if it does. */
export function delegatedBy(op: AuthOp): Member | null {
  const a = op.action;
  if ((a.type === 'add' || a.type === 'promote') && a.access.level === MANAGE) return a.member;
  return null;
}

/** Leaving is always allowed: a removal of its own author is never ignored. */
function leaves(op: AuthOp): boolean {
  const a = op.action;
  return a.type === 'remove' && a.member.kind === 'individual' && a.member.id === op.author;
}

export function resolveStrongRemoval(view: StrongRemovalView): ResolvedIgnores {
  const { nodes, ancestry } = view;
  const isolated = ancestry.isolated();
  const ignored = new Map<number, number>();
  const authority = new Map<string, number[]>();
  const ignore = (i: number, by: number) => {
    const had = ignored.get(i);
    if (had === undefined || nodes[by].op.id < nodes[had].op.id) ignored.set(i, by);
  };
  for (let r = 0; r < nodes.length; r++) {
    if (isolated[r] || !nodes[r].raw) continue;
    const { op, group } = nodes[r];
    if (leaves(op)) continue;
    const removed = removedBy(op);
    if (removed || delegatedBy(op)) {
      const list = authority.get(group) ?? [];
      if (list.length === 0) authority.set(group, list);
      list.push(r);
    }
    if (!removed) continue;
    for (const c of view.touches.get(group)?.get(memberKey(removed)) ?? []) {
      if (nodes[c].op.action.type === 'add' && ancestry.concurrent(c, r)) ignore(c, r);
    }
    const authors = removed.kind === 'individual' ? [removed.id] : individualsUnder(view, removed.id);
    const byAuthor = view.byAuthor.get(group);
    for (const author of authors) {
      for (const c of byAuthor?.get(author) ?? []) {
        if (!ancestry.concurrent(c, r) || leaves(nodes[c].op)) continue;
        if (removed.kind === 'individual' || view.memberAt(removed.id, author, c)) ignore(c, r);
      }
    }
  }
  const mutual = new Set<number>();
  for (const list of authority.values()) for (const r of mutualRemovals(view, list)) mutual.add(r);
  for (const r of mutual) ignored.delete(r);
  return { ignored, mutual };
}

/** The removals among `list` (one group's non-isolated authority operations, ascending) caught in a cycle. */
function mutualRemovals(view: StrongRemovalView, list: number[]): number[] {
  const { nodes, ancestry } = view;
  // Components of the concurrency relation among these operations (union-find).
  const parent = list.map((_, k) => k);
  const find = (k: number): number => {
    while (parent[k] !== k) k = parent[k] = parent[parent[k]];
    return k;
  };
  for (let j = 1; j < list.length; j++) {
    const floor = ancestry.prefix(list[j]); // everything below is an ancestor of list[j]
    for (let i = j - 1; i >= 0 && list[i] >= floor; i--) {
      if (!ancestry.before(list[i], list[j])) parent[find(i)] = find(j);
    }
  }
  const components = new Map<number, number[]>();
  for (let k = 0; k < list.length; k++) {
    const root = find(k);
    const members = components.get(root) ?? [];
    if (members.length === 0) components.set(root, members);
    members.push(list[k]);
  }
  const out: number[] = [];
  for (const ops of components.values()) {
    if (ops.length < 2) continue;
    const edges = new Map<string, Set<string>>();
    const edge = (from: string, to: string) => {
      const set = edges.get(from) ?? new Set<string>();
      if (set.size === 0) edges.set(from, set);
      set.add(to);
    };
    for (const i of ops) {
      const op = nodes[i].op;
      const target = (removedBy(op) ?? delegatedBy(op))!;
      edge(`i:${op.author}`, memberKey(target));
      if (target.kind === 'group') for (const d of individualsUnder(view, target.id)) edge(`g:${target.id}`, `i:${d}`);
    }
    for (const i of ops) {
      const op = nodes[i].op;
      const removed = removedBy(op);
      if (removed && reaches(edges, memberKey(removed), `i:${op.author}`)) out.push(i);
    }
  }
  return out;
}

function reaches(edges: Map<string, Set<string>>, from: string, to: string): boolean {
  const seen = new Set([from]);
  const stack = [from];
  while (stack.length > 0) {
    const at = stack.pop()!;
    if (at === to) return true;
    for (const next of edges.get(at) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return false;
}

/** Every individual ever named in `group` or its nested groups, at most `maxDepth` deep. */
function individualsUnder(view: StrongRemovalView, group: string): string[] {
  const out = new Set<string>();
  const seen = new Set([group]);
  let layer = [group];
  for (let depth = 0; depth < view.maxDepth && layer.length > 0; depth++) {
    const next: string[] = [];
    for (const g of layer) {
      for (const key of view.touches.get(g)?.keys() ?? []) if (key.startsWith('i:')) out.add(key.slice(2));
      for (const sub of view.subgroups.get(g) ?? []) {
        if (!seen.has(sub)) {
          seen.add(sub);
          next.push(sub);
        }
      }
    }
    layer = next;
  }
  return [...out];
}
