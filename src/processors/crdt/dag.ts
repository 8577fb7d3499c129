/**
 * The operation DAG: nodes are operations, edges their dependencies (backlink
 * and `previous`). A grow-only set of nodes, so any order converges. Heads are
 * the nodes no other node depends on (the frontier, a hash-based vector
 * clock). The topological traversal is deterministic: among the nodes whose
 * dependencies were all visited, the smallest Lamport timestamp goes first,
 * then the smallest hash. Dependencies that are not in the DAG (pruned, or not
 * arrived) count as visited.
 */
import type { Hash } from '../../core/index.ts';
import { type CausalGraph, lamportFrom } from '../clocks.ts';
import { dependencyKeys, hashKey, keyToHash } from '../keys.ts';
import type { OrderedOperation, Processor } from '../types.ts';

export interface DagNode {
  hash: Hash;
  dependencies: readonly string[];
  lamport: number;
}

export interface DagChange {
  hash: Hash;
  /** Whether the node became a head (it is not yet depended upon). */
  head: boolean;
}

export class OperationDag implements Processor<OrderedOperation, DagChange>, CausalGraph {
  readonly name = 'dag';
  readonly #nodes = new Map<string, DagNode>();
  /** Keys some node depends on (present or not): never heads. */
  readonly #referenced = new Set<string>();
  readonly #heads = new Set<string>();

  /**
   * Adds a node. Without `lamport` it is computed from the dependencies
   * present (exact when nodes come in causal order).
   */
  add(hash: Hash, dependencies: readonly Hash[], seqNum = 0, lamport?: number): boolean {
    const key = hashKey(hash.bytes);
    if (this.#nodes.has(key)) return false;
    const deps = [...new Set(dependencies.map((d) => hashKey(d.bytes)))];
    const l =
      lamport ??
      lamportFrom(
        seqNum,
        deps.map((d) => this.#nodes.get(d)?.lamport ?? -1).filter((x) => x >= 0),
      );
    this.#insert(key, { hash, dependencies: deps, lamport: l });
    return true;
  }

  process(input: OrderedOperation): DagChange[] {
    const op = input.operation;
    const key = hashKey(op.hash.bytes);
    if (this.#nodes.has(key)) return [];
    this.#insert(key, { hash: op.hash, dependencies: dependencyKeys(op), lamport: input.lamport });
    return [{ hash: op.hash, head: this.#heads.has(key) }];
  }

  #insert(key: string, node: DagNode): void {
    this.#nodes.set(key, node);
    for (const d of node.dependencies) {
      this.#referenced.add(d);
      this.#heads.delete(d);
    }
    if (!this.#referenced.has(key)) this.#heads.add(key);
  }

  has(hash: Hash): boolean {
    return this.#nodes.has(hashKey(hash.bytes));
  }

  get size(): number {
    return this.#nodes.size;
  }

  /** The heads in hash order: the frontier of everything in the DAG. */
  heads(): Hash[] {
    return [...this.#heads].sort().map(keyToHash);
  }

  dependenciesOf(key: string): readonly string[] | undefined {
    return this.#nodes.get(key)?.dependencies;
  }

  lamportOf(key: string): number | undefined {
    return this.#nodes.get(key)?.lamport;
  }

  /** Every node, each after all its present dependencies (Kahn's algorithm, explicit heap). */
  topological(): Hash[] {
    const indegree = new Map<string, number>();
    const dependents = new Map<string, string[]>();
    for (const [key, node] of this.#nodes) {
      let n = 0;
      for (const d of node.dependencies) {
        if (!this.#nodes.has(d)) continue;
        n++;
        const list = dependents.get(d);
        if (list) list.push(key);
        else dependents.set(d, [key]);
      }
      indegree.set(key, n);
    }
    const heap = new NodeHeap((a, b) => this.#before(a, b));
    for (const [key, n] of indegree) if (n === 0) heap.push(key);
    const out: Hash[] = [];
    while (heap.size > 0) {
      const key = heap.pop();
      out.push(this.#nodes.get(key)!.hash);
      for (const d of dependents.get(key) ?? []) {
        const n = indegree.get(d)! - 1;
        indegree.set(d, n);
        if (n === 0) heap.push(d);
      }
    }
    return out;
  }

  #before(a: string, b: string): boolean {
    const la = this.#nodes.get(a)!.lamport;
    const lb = this.#nodes.get(b)!.lamport;
    return la !== lb ? la < lb : a < b;
  }

  merge(other: OperationDag): void {
    for (const [key, node] of other.#nodes) if (!this.#nodes.has(key)) this.#insert(key, node);
  }
}

/** A binary min-heap of keys. */
class NodeHeap {
  readonly #items: string[] = [];
  readonly #less: (a: string, b: string) => boolean;

  constructor(less: (a: string, b: string) => boolean) {
    this.#less = less;
  }

  get size(): number {
    return this.#items.length;
  }

  push(item: string): void {
    const a = this.#items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(a[i], a[parent])) break;
      [a[i], a[parent]] = [a[parent], a[i]];
      i = parent;
    }
  }

  pop(): string {
    const a = this.#items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.#less(a[l], a[m])) m = l;
        if (r < a.length && this.#less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}
