/**
 * The stages of the publish and ingest paths of `bench/ratios.ts`, each
 * measured alone with the real component, as CPU time (every thread of the
 * process) per operation, so that the report can say what each ratio is
 * bound by instead of guessing:
 *
 *   signPaced  one sign every 10 ms: the rhythm of a serial publish that
 *              waits for a WAL sync. On a shared machine the caches are
 *              cold after every wait, and the same sign costs more CPU.
 *   create     `createOperation`: sign, header encoding, both hashes
 *   storeOwn   `SqliteStore.ingest` of one signed operation per
 *              transaction, `synchronous=FULL` (a publish's store step)
 *   storeOwnNormal  the same with `durability: 'normal'`
 *   storeBatch `SqliteStore.ingestBatch`, 1,000 decoded operations per
 *              transaction (the ingest's store step)
 *   decode     `decodeOperationUnverified` (shape, header hash, body hash)
 *   idle       CPU of an idle node (libp2p host, one topic), µs per second:
 *              what a serial publish is charged for while it waits
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createOperation, crypto, decodeOperationUnverified, logIdForTopic, PrivateKey, topicId, type Hash, type Operation } from '../src/core/index.ts';
import type { SqliteStore } from '../src/store/index.ts';
import { cpuSecondsSince, round, type Sample } from './harness.ts';

const TOPIC = topicId('walkaway/bench/ratios');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type Wire = [Uint8Array, Uint8Array | undefined][];

interface StoreImpl {
  SqliteStore: { open(path: string, options?: { durability?: 'full' | 'normal' }): SqliteStore };
}

/** One author's log of `n` signed operations (100-byte bodies). */
function ownLog(n: number, seed: number): Operation[] {
  const key = PrivateKey.fromBytes(new Uint8Array(32).fill(seed));
  const logId = logIdForTopic(TOPIC);
  const out: Operation[] = [];
  let backlink: Hash | undefined;
  for (let seq = 0; seq < n; seq++) {
    const body = new Uint8Array(100).fill(seq & 0xff);
    const op = createOperation({
      privateKey: key,
      body,
      seqNum: seq,
      backlink,
      extensions: { variant: 'basic', logId, timestamp: 1_700_000_000_000_000 + seq, pruneFlag: false },
    });
    backlink = op.hash;
    out.push(op);
  }
  return out;
}

async function inFreshStore<T>(store: StoreImpl, path: string, durability: 'full' | 'normal', fn: (s: SqliteStore) => T | Promise<T>): Promise<T> {
  const s = store.SqliteStore.open(path, { durability });
  try {
    return await fn(s);
  } finally {
    s.close();
    for (const x of ['', '-wal', '-shm']) rmSync(path + x, { force: true });
  }
}

export interface StageOptions {
  dir: string;
  warmWire: Wire;
  /** Operations per side for the cheap stages; `storeOwn` syncs once each, so it takes a quarter. */
  ops: number;
  idleNode: () => Promise<{ close(): Promise<void> }>;
}

/** The stage sides (see the file comment), `@base` ones for another tree's store when given. */
export function stageSides(o: StageOptions, stores: [string, StoreImpl][]): Record<string, (rep: number) => Promise<Sample>> {
  const key = PrivateKey.fromBytes(new Uint8Array(32).fill(9));
  const message = new Uint8Array(120).fill(5);
  const body = new Uint8Array(100);
  const logId = logIdForTopic(TOPIC);
  const decoded = o.warmWire.map(([h, b]) => decodeOperationUnverified(h, b));
  const sides: Record<string, (rep: number) => Promise<Sample>> = {
    signPaced: async () => {
      let cpu = 0;
      for (let i = 0; i < 200; i++) {
        const t = process.cpuUsage();
        crypto().sign(key.toBytes(), message);
        cpu += cpuSecondsSince(t);
        await sleep(10);
      }
      return { cpuUs: round((cpu * 1e6) / 200, 2) };
    },
    create: async () => {
      const t = process.cpuUsage();
      for (let i = 0; i < o.ops; i++) createOperation({ privateKey: key, body, seqNum: 0, extensions: { variant: 'basic', logId, timestamp: i, pruneFlag: false } });
      return { cpuUs: round((cpuSecondsSince(t) * 1e6) / o.ops, 2) };
    },
    decode: async () => {
      const t = process.cpuUsage();
      for (const [h, b] of o.warmWire) decodeOperationUnverified(h, b);
      return { cpuUs: round((cpuSecondsSince(t) * 1e6) / o.warmWire.length, 2) };
    },
    idle: async () => {
      const node = await o.idleNode();
      try {
        await sleep(500);
        const t = process.cpuUsage();
        const start = performance.now();
        await sleep(2000);
        return { cpuUsPerSec: round((cpuSecondsSince(t) * 1e6) / ((performance.now() - start) / 1000), 1) };
      } finally {
        await node.close();
      }
    },
  };
  for (const [tag, store] of stores) {
    const own = (durability: 'full' | 'normal', n: number) => async (rep: number) => {
      const log = ownLog(n, 20 + rep);
      return inFreshStore(store, join(o.dir, `own-${durability}-${rep}${tag}.db`), durability, (s) => {
        const t = process.cpuUsage();
        for (const op of log) s.ingest(op, TOPIC);
        return { cpuUs: round((cpuSecondsSince(t) * 1e6) / n, 2) };
      });
    };
    sides[`storeOwn${tag}`] = own('full', Math.max(100, o.ops >> 2));
    sides[`storeOwnNormal${tag}`] = own('normal', o.ops);
    sides[`storeBatch${tag}`] = (rep) =>
      inFreshStore(store, join(o.dir, `batch-${rep}${tag}.db`), 'full', (s) => {
        const t = process.cpuUsage();
        for (let i = 0; i < decoded.length; i += 1000) s.ingestBatch(decoded.slice(i, i + 1000).map((operation) => ({ operation, topic: TOPIC })));
        return { cpuUs: round((cpuSecondsSince(t) * 1e6) / decoded.length, 2) };
      });
  }
  return sides;
}
