/** Shared fixtures for the processor tests: seeded histories, stores, delivery schedules. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOperation, type Hash, PrivateKey, type Operation } from '../../src/core/index.ts';
import { encodeLwwWrite } from '../../src/processors/index.ts';
import { MemoryStore, SqliteStore, type Store, type StoredOperation } from '../../src/store/index.ts';

export const LOG_ID = new Uint8Array(32).fill(7);
export const TOPIC = new Uint8Array(32).fill(9);

/** mulberry32: a small seeded generator, for fixtures only. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const keyCache = new Map<number, PrivateKey>();
export function authorKey(i: number): PrivateKey {
  let key = keyCache.get(i);
  if (!key) {
    const seed = new Uint8Array(32);
    seed[0] = i + 1;
    seed[31] = 0x5a;
    keyCache.set(i, (key = PrivateKey.fromBytes(seed)));
  }
  return key;
}

export interface HistoryOptions {
  authors: number;
  operations: number;
  /** Most extra `previous` hashes per operation. */
  maxPrevious?: number;
  keys?: string[];
  /** Probability that a write is a delete. */
  deletes?: number;
}

/**
 * A random multi-author history of causal operations: each operation extends
 * its author's log and lists up to `maxPrevious` random earlier operations of
 * any author in `previous` (so much is concurrent). Bodies are LWW writes.
 */
export function makeHistory(seed: number, options: HistoryOptions): Operation[] {
  const random = rng(seed);
  const keys = options.keys ?? ['a', 'b', 'c', 'd'];
  const maxPrevious = options.maxPrevious ?? 2;
  const tips: (Operation | undefined)[] = new Array(options.authors).fill(undefined);
  const all: Operation[] = [];
  for (let n = 0; n < options.operations; n++) {
    const a = Math.floor(random() * options.authors);
    const tip = tips[a];
    const previous: Hash[] = [];
    const count = all.length === 0 ? 0 : Math.floor(random() * (maxPrevious + 1));
    for (let i = 0; i < count; i++) previous.push(all[Math.floor(random() * all.length)].hash);
    const key = keys[Math.floor(random() * keys.length)];
    const body = random() < (options.deletes ?? 0.15) ? encodeLwwWrite(key) : encodeLwwWrite(key, `${a}:${n}`);
    const op = createOperation({
      privateKey: authorKey(a),
      seqNum: tip ? tip.header.seqNum + 1 : 0,
      backlink: tip?.hash,
      body,
      // Few distinct timestamps, so that ties on Lamport and clock happen.
      extensions: { variant: 'causal', logId: LOG_ID, timestamp: 1000 + Math.floor(random() * 3), previous },
    });
    tips[a] = op;
    all.push(op);
  }
  return all;
}

/** A uniform shuffle of `items` with some repeated (duplicates), seeded. */
export function shuffleWithDuplicates<T>(items: readonly T[], seed: number, duplicates = 0.2): T[] {
  const random = rng(seed);
  const out = [...items];
  for (const item of items) if (random() < duplicates) out.push(item);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Operations as the store would hand them out: localSeq is the first arrival. */
export function asStored(delivery: readonly Operation[]): StoredOperation[] {
  const seqs = new Map<string, number>();
  return delivery.map((op) => {
    const hex = op.hash.toHex();
    let seq = seqs.get(hex);
    if (seq === undefined) seqs.set(hex, (seq = seqs.size + 1));
    return { ...op, localSeq: seq };
  });
}

export interface StoreFactory {
  kind: 'memory' | 'sqlite';
  /** A fresh store. */
  open(): Store;
  /** The same store again after close (memory: the same object, as if it survived). */
  reopen(previous: Store): Store;
  cleanup(): void;
}

export function storeFactories(): StoreFactory[] {
  const dirs: string[] = [];
  let n = 0;
  return [
    { kind: 'memory', open: () => MemoryStore.create(), reopen: (s) => s, cleanup: () => {} },
    {
      kind: 'sqlite',
      open: () => {
        const dir = mkdtempSync(join(tmpdir(), 'walkaway-proc-'));
        dirs.push(dir);
        return SqliteStore.open(join(dir, `store-${n++}.db`));
      },
      reopen: (s) => {
        const path = (s as SqliteStore).path;
        s.close();
        return SqliteStore.open(path);
      },
      cleanup: () => {
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      },
    },
  ];
}
