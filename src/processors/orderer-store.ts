/**
 * What the causal orderer reads back from the store: after a restart (or once
 * its in-memory cache of released operations was dropped) it learns whether a
 * dependency was released, and its Lamport timestamp, from the stored
 * operations and the persisted released set.
 */
import type { Hash } from '../core/index.ts';
import type { Store, StoredOperation } from '../store/index.ts';
import { dependencyKeys, hashKey, keyToHash } from './keys.ts';
import { isSettled, type ReleasedSet } from './released-set.ts';

/** Lamport floor of an operation: its seqNum (so a pruned history changes nothing). */
export function lamportFloor(op: StoredOperation): number {
  return op.header.seqNum;
}

/**
 * Lamport timestamp of a stored, released operation, walking its history in
 * the store with an explicit stack (no recursion). Known values come from and
 * go into `cache`. A dependency missing from the store (pruned) contributes
 * nothing beyond the seqNum floor.
 */
/** Where known Lamport timestamps of released operations are kept. */
export interface LamportCache {
  get(key: string): number | undefined;
  set(key: string, lamport: number): void;
}

export function lamportFromStore(store: Store, start: StoredOperation, cache: LamportCache): number {
  const stack: StoredOperation[] = [start];
  const onStack = new Set<string>([hashKey(start.hash.bytes)]);
  while (stack.length > 0) {
    const op = stack[stack.length - 1];
    const key = hashKey(op.hash.bytes);
    let lamport = lamportFloor(op);
    let ready = true;
    for (const dep of dependencyKeys(op)) {
      const known = cache.get(dep);
      if (known !== undefined) {
        lamport = Math.max(lamport, known + 1);
        continue;
      }
      if (onStack.has(dep)) continue; // impossible by hashing; never loop on a forged store
      const depOp = store.getOperation(keyToHash(dep));
      if (!depOp) continue;
      ready = false;
      onStack.add(dep);
      stack.push(depOp);
    }
    if (!ready) continue;
    cache.set(key, lamport);
    onStack.delete(key);
    stack.pop();
  }
  return cache.get(hashKey(start.hash.bytes))!;
}

/**
 * Whether `hash` is a stored operation that was released before (settled in
 * the persisted set); with its Lamport timestamp if so.
 */
export function releasedInStore(
  store: Store,
  hash: Hash,
  released: ReleasedSet,
  cache: LamportCache,
): number | undefined {
  const op = store.getOperation(hash);
  if (!op || !isSettled(released, op.localSeq)) return undefined;
  return lamportFromStore(store, op, cache);
}
