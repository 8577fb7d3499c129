/**
 * Clocks derived from the dependency graph.
 *
 * Lamport timestamp: `max(seqNum, 1 + max(lamport of each dependency))`, where
 * the dependencies are the backlink (not for a prune point) and `previous`.
 * The seqNum floor makes a log with no `previous` count 0, 1, 2, ... whatever
 * was pruned, so every replica computes the same number.
 *
 * Hash-based vector clock: a *frontier*, the set of heads (operations nothing
 * else in the set depends on), as sorted unique operation hashes. One frontier
 * is before another when everything in it is an ancestor of (or equal to)
 * something in the other. It grows with the number of concurrent heads, not
 * with the number of authors.
 */
import { compareBytes, type Hash, type Operation } from '../core/index.ts';
import { dependencyKeys, hashKey } from './keys.ts';

export type ClockOrder = 'before' | 'after' | 'concurrent' | 'equal';

/** What a frontier comparison needs to know about operations. */
export interface CausalGraph {
  /** Dependency keys (`hashKey`) of a known operation, undefined if unknown. */
  dependenciesOf(key: string): readonly string[] | undefined;
  lamportOf(key: string): number | undefined;
}

/** Lamport timestamp from the dependencies' timestamps (see above). */
export function lamportFrom(seqNum: number, dependencyLamports: readonly number[]): number {
  let l = seqNum;
  for (const d of dependencyLamports) if (d + 1 > l) l = d + 1;
  return l;
}

/** A frontier as a sorted, unique list of hashes: equal frontiers give equal bytes. */
export function frontierOf(hashes: Iterable<Hash>): Hash[] {
  const byKey = new Map<string, Hash>();
  for (const h of hashes) byKey.set(hashKey(h.bytes), h);
  return [...byKey.values()].sort((a, b) => compareBytes(a.bytes, b.bytes));
}

/**
 * The frontier after `op` is known: its dependencies stop being heads and it
 * becomes one. Apply operations in causal order (as the orderer releases them).
 */
export function advanceFrontier(frontier: readonly Hash[], op: Operation): Hash[] {
  const deps = new Set(dependencyKeys(op));
  const own = hashKey(op.hash.bytes);
  const kept = frontier.filter((h) => {
    const k = hashKey(h.bytes);
    return k !== own && !deps.has(k);
  });
  return frontierOf([...kept, op.hash]);
}

/** How frontier `a` relates to frontier `b` in the causal graph. */
export function compareFrontiers(a: readonly Hash[], b: readonly Hash[], graph: CausalGraph): ClockOrder {
  const ak = uniqueKeys(a);
  const bk = uniqueKeys(b);
  if (ak.length === bk.length && ak.every((k, i) => k === bk[i])) return 'equal';
  const aBeforeB = covers(bk, ak, graph);
  const bBeforeA = covers(ak, bk, graph);
  if (aBeforeB && !bBeforeA) return 'before';
  if (bBeforeA && !aBeforeB) return 'after';
  return aBeforeB ? 'equal' : 'concurrent';
}

/** Whether `ancestor` is `op` or reachable from it along dependencies. */
export function happenedBefore(ancestor: Hash, op: Hash, graph: CausalGraph): boolean {
  return covers([hashKey(op.bytes)], [hashKey(ancestor.bytes)], graph);
}

/**
 * Whether every key in `lower` is in `upper` or an ancestor of it. One walk
 * from `upper` down, with an explicit stack, that never descends below the
 * smallest Lamport timestamp in `lower` (an ancestor's is always smaller).
 */
function covers(upper: readonly string[], lower: readonly string[], graph: CausalGraph): boolean {
  const wanted = new Set(lower);
  let floor = Infinity;
  for (const k of lower) floor = Math.min(floor, graph.lamportOf(k) ?? -1);
  const seen = new Set<string>();
  const stack = [...upper];
  while (stack.length > 0 && wanted.size > 0) {
    const key = stack.pop()!;
    if (seen.has(key)) continue;
    seen.add(key);
    wanted.delete(key);
    const lamport = graph.lamportOf(key);
    if (lamport === undefined || lamport <= floor) continue;
    for (const dep of graph.dependenciesOf(key) ?? []) if (!seen.has(dep)) stack.push(dep);
  }
  return wanted.size === 0;
}

function uniqueKeys(hashes: readonly Hash[]): string[] {
  return [...new Set(hashes.map((h) => hashKey(h.bytes)))].sort();
}
