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
  const startKey = hashKey(start.hash.bytes);
  const stack: StoredOperation[] = [start];
  // A forged store could hold a cycle (impossible by hashing): bound the walk.
  let budget = 1_000_000;
  while (stack.length > 0) {
    const op = stack[stack.length - 1];
    const key = hashKey(op.hash.bytes);
    if (cache.get(key) !== undefined) {
      stack.pop();
      continue;
    }
    let lamport = lamportFloor(op);
    let ready = true;
    for (const dep of dependencyKeys(op)) {
      const known = cache.get(dep);
      if (known !== undefined) {
        if (known + 1 > lamport) lamport = known + 1;
        continue;
      }
      const depOp = budget-- > 0 ? store.getOperation(keyToHash(dep)) : undefined;
      if (!depOp) continue; // pruned: nothing beyond the seqNum floor
      ready = false;
      stack.push(depOp); // may already be lower on the stack: computing it twice is harmless
    }
    if (!ready) continue;
    cache.set(key, lamport);
    stack.pop();
  }
  return cache.get(startKey)!;
}

/**
 * Whether `hash` is a stored operation that was released before (settled in
 * the persisted set); with its Lamport timestamp if so.
 */
export function releasedInStore(store: Store, hash: Hash, released: ReleasedSet, cache: LamportCache): number | undefined {
  const op = store.getOperation(hash);
  if (!op || !isSettled(released, op.localSeq)) return undefined;
  return lamportFromStore(store, op, cache);
}
