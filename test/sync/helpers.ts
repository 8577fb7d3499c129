/** Fixtures for the sync tests: deterministic keys and logs, store pairs, raw frames. */
import { createOperation, logIdForTopic, PrivateKey, topicId, type Operation } from '../../src/core/index.ts';
import { MemoryStore, SqliteStore, type Store } from '../../src/store/index.ts';
import { inlineVerifier, storeIngest } from '../../src/node/inbound/index.ts';
import { encodeFrames, SYNC_PROTOCOL_VERSION, type SyncIngest, type SyncMessage } from '../../src/sync/index.ts';
import { encodeMessage } from '../../src/sync/messages.ts';

export const TOPIC = topicId('walkaway/sync-test');
export const LOG_ID = logIdForTopic(TOPIC);

export function key(i: number): PrivateKey {
  const seed = new Uint8Array(32);
  seed[0] = 7;
  seed[1] = i & 0xff;
  seed[2] = (i >>> 8) & 0xff;
  return PrivateKey.fromBytes(seed);
}

export interface LogOptions {
  /** seqNums that carry the prune flag. */
  prune?: number[];
  bodySize?: number;
  /** Changes body bytes, for a second branch of the same log (a fork). */
  salt?: number;
  from?: Operation;
}

/** `count` operations of one author in the test topic's log, seq 0.. (or after `from`). */
export function makeLog(author: PrivateKey, count: number, options: LogOptions = {}): Operation[] {
  const out: Operation[] = [];
  let prev = options.from;
  const start = prev ? prev.header.seqNum + 1 : 0;
  for (let seq = start; seq < start + count; seq++) {
    const body = new Uint8Array(options.bodySize ?? 24).fill((seq + (options.salt ?? 0)) & 0xff);
    body[0] = seq & 0xff;
    const op = createOperation({
      privateKey: author,
      seqNum: seq,
      backlink: prev?.hash,
      body,
      extensions: { variant: 'basic', logId: LOG_ID, timestamp: 1_700_000_000_000_000 + seq, pruneFlag: options.prune?.includes(seq) ?? false },
    });
    out.push(op);
    prev = op;
  }
  return out;
}

export function fill(store: Store, operations: Operation[]): void {
  const outcomes = store.ingestBatch(operations.map((operation) => ({ operation, topic: TOPIC })));
  const bad = outcomes.find((o) => o.status === 'rejected');
  if (bad && bad.status === 'rejected') throw bad.error;
}

export type StoreKind = 'memory' | 'sqlite';
export const STORE_PAIRS: [StoreKind, StoreKind][] = [
  ['memory', 'sqlite'],
  ['sqlite', 'memory'],
];

export function openStore(kind: StoreKind): Store {
  return kind === 'memory' ? MemoryStore.create() : SqliteStore.open(':memory:');
}

/** `{author: height}` of the test topic, for comparisons. */
export function heightsOf(store: Store): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of store.heights(TOPIC)) out[h.author.toHex()] = h.seqNum;
  return out;
}

/** Hashes of every operation of the test topic, sorted. */
export function hashesOf(store: Store): string[] {
  const out: string[] = [];
  for (const ref of store.logs(TOPIC)) {
    for (let after = -1; ; ) {
      const page = store.readLog(ref.author, ref.logId, after, 500);
      if (page.length === 0) break;
      for (const op of page) out.push(op.hash.toHex());
      after = page[page.length - 1].header.seqNum;
    }
  }
  return out.sort();
}

export function frames(...messages: SyncMessage[]): Buffer {
  return encodeFrames(messages.map(encodeMessage));
}

export function hello(live = false): SyncMessage {
  return { type: 'hello', version: SYNC_PROTOCOL_VERSION, topic: TOPIC, live };
}

/** Sync options for a session storing into `store`: tests verify on the main thread (no worker start-up per test file). */
export function testOptions(store: Store): { ingest: SyncIngest } {
  return { ingest: storeIngest(store, inlineVerifier) };
}

/** mulberry32: a small seeded generator for the simulated medium. */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
