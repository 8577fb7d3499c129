/**
 * Benchmark `core`: raw Ed25519 sign/verify on one thread (the per-core
 * physical limit), then our create and ingest paths into SQLite, and their
 * ratios to the raw rates; then the cost of durable commits: publish (one
 * operation per transaction) and ingest (batches) with `synchronous=FULL`
 * (the default) against NORMAL, interleaved in the same run.
 * `npm run bench -- core [--ops N] [--authors A] [--reps R] [--publish-ops P]`
 */
import * as nodeCrypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOperation, decodeOperationUnverified, decodeTrustedOperation, PrivateKey, VerifyPool, type Hash, type Operation } from '../src/core/index.ts';
import { SqliteStore, type Durability } from '../src/store/index.ts';
import { createLogInWorker } from './core-create.ts';

const BATCH = 1000;

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

function ratePerSec(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

/** Runs `fn` in rounds until `minMs` passed; returns calls per second. */
function measure(fn: () => void, minMs = 1500): number {
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    for (let i = 0; i < 200; i++) fn();
    count += 200;
  }
  return ratePerSec(count, performance.now() - start);
}

/** CPU microseconds (all threads of the process) since `from`. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return d.user + d.system;
}

function rawEd25519(): { signPerSec: number; verifyPerSec: number; verifyCpuUs: number } {
  const { privateKey, publicKey } = nodeCrypto.generateKeyPairSync('ed25519');
  const message = nodeCrypto.randomBytes(128);
  const signature = nodeCrypto.sign(null, message, privateKey);
  const signPerSec = measure(() => nodeCrypto.sign(null, message, privateKey));
  let verifies = 0;
  const cpu = process.cpuUsage();
  const verifyPerSec = measure(() => {
    verifies++;
    nodeCrypto.verify(null, message, publicKey, signature);
  });
  return { signPerSec, verifyPerSec, verifyCpuUs: cpuSince(cpu) / verifies };
}

function body(i: number): Uint8Array {
  const b = new Uint8Array(100);
  new DataView(b.buffer).setUint32(0, i);
  return b;
}

/** The operations of one signed log, created one by one as they are taken. */
function* signedLog(key: PrivateKey, logId: Uint8Array, length: number): Generator<Operation> {
  let backlink: Hash | undefined;
  for (let seq = 0; seq < length; seq++) {
    const op = createOperation({
      privateKey: key,
      body: body(seq),
      seqNum: seq,
      backlink,
      extensions: { variant: 'basic', logId, timestamp: 1_700_000_000_000_000 + seq, pruneFlag: false },
    });
    backlink = op.hash;
    yield op;
  }
}

/** One thread: create (sign, hash, encode) and store, batch by batch. */
function createSerial(store: SqliteStore, ops: number): number {
  const log = signedLog(PrivateKey.generate(), new Uint8Array(32).fill(7), ops);
  const start = performance.now();
  let batch: Operation[] = [];
  for (const op of log) {
    batch.push(op);
    if (batch.length === BATCH) {
      store.ingestBatch(batch.map((operation) => ({ operation })));
      batch = [];
    }
  }
  if (batch.length > 0) store.ingestBatch(batch.map((operation) => ({ operation })));
  return ratePerSec(ops, performance.now() - start);
}

/** Signing on a worker thread, storing on this one: the two overlap. */
async function createPipelined(store: SqliteStore, ops: number): Promise<number> {
  const worker = await createLogInWorker(ops, BATCH, (batch) => {
    const decoded = batch.map(([header, hash, b]) => ({ operation: decodeTrustedOperation(header, hash, b) }));
    const outcomes = store.ingestBatch(decoded);
    if (outcomes.some((o) => o.status !== 'inserted')) throw new Error('create bench: an operation was not stored');
  });
  const start = performance.now();
  await worker.start();
  return ratePerSec(ops, performance.now() - start);
}

function makeAuthorsLogs(authors: number, perAuthor: number): Operation[][] {
  return Array.from({ length: authors }, (_, a) => [...signedLog(PrivateKey.generate(), new Uint8Array(32).fill(a & 0xff), perAuthor)]);
}

/** Interleaves the authors' logs (each in seq order) and serialises them to wire bytes. */
function interleave(logs: Operation[][]): [Uint8Array, Uint8Array | undefined][] {
  const out: [Uint8Array, Uint8Array | undefined][] = [];
  const longest = Math.max(...logs.map((l) => l.length));
  for (let seq = 0; seq < longest; seq++) for (const log of logs) if (log[seq]) out.push([log[seq].headerBytes, log[seq].body]);
  return out;
}

/**
 * Decode + validate + verify + backlink check + store, from raw bytes.
 * Signatures are verified on worker threads, one batch ahead of storage.
 */
async function ingest(store: SqliteStore, wire: [Uint8Array, Uint8Array | undefined][], pool: VerifyPool): Promise<{ perSec: number; cpuUsPerOp: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  // Two batches in flight: the workers verify k+1 and k+2 while this thread stores k.
  const inFlight: { ops: Operation[]; verified: Promise<boolean[]> }[] = [];
  let from = 0;
  const dispatch = () => {
    if (from >= wire.length) return;
    const ops = wire.slice(from, from + BATCH).map(([h, b]) => decodeOperationUnverified(h, b));
    from += BATCH;
    inFlight.push({ ops, verified: pool.verify(ops) });
  };
  dispatch();
  dispatch();
  while (inFlight.length > 0) {
    const { ops, verified } = inFlight.shift()!;
    const ok = await verified;
    dispatch();
    if (!ok.every(Boolean)) throw new Error('ingest bench: a signature failed');
    const outcomes = store.ingestBatch(ops.map((operation) => ({ operation })));
    if (outcomes.some((o) => o.status !== 'inserted')) throw new Error('ingest bench: an operation was not stored');
  }
  return { perSec: ratePerSec(wire.length, performance.now() - start), cpuUsPerOp: cpuSince(cpu) / wire.length };
}

/** Publish as the Node does: create (sign) one operation, store it in its own transaction. */
function publishOneByOne(store: SqliteStore, ops: number): number {
  const log = signedLog(PrivateKey.generate(), new Uint8Array(32).fill(9), ops);
  const start = performance.now();
  for (const operation of log) {
    if (store.ingest(operation).status !== 'inserted') throw new Error('publish bench: an operation was not stored');
  }
  return ratePerSec(ops, performance.now() - start);
}

function spread(values: number[]): { median: number; min: number; max: number; runs: number[] } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : Math.round((sorted[mid - 1] + sorted[mid]) / 2);
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: values };
}

/**
 * FULL against NORMAL, interleaved (the order alternates every repetition) so
 * that drifting load on the machine hits both alike; a fresh file each run.
 */
async function durabilityCost(
  dir: string,
  wire: [Uint8Array, Uint8Array | undefined][],
  pool: VerifyPool,
  reps: number,
  publishOps: number,
): Promise<Record<string, unknown>> {
  const publish: Record<Durability, number[]> = { full: [], normal: [] };
  const ingested: Record<Durability, number[]> = { full: [], normal: [] };
  for (let rep = 0; rep < reps; rep++) {
    const order: Durability[] = rep % 2 === 0 ? ['full', 'normal'] : ['normal', 'full'];
    for (const durability of order) {
      const pubStore = SqliteStore.open(join(dir, `publish-${durability}-${rep}.db`), { durability });
      publish[durability].push(publishOneByOne(pubStore, publishOps));
      pubStore.close();
      const ingestStore = SqliteStore.open(join(dir, `ingest-${durability}-${rep}.db`), { durability });
      ingested[durability].push((await ingest(ingestStore, wire, pool)).perSec);
      ingestStore.close();
    }
  }
  const p = { full: spread(publish.full), normal: spread(publish.normal) };
  const i = { full: spread(ingested.full), normal: spread(ingested.normal) };
  return {
    publishFullPerSec: p.full,
    publishNormalPerSec: p.normal,
    publishFullOverNormal: round(p.full.median / p.normal.median),
    ingestFullPerSec: i.full,
    ingestNormalPerSec: i.normal,
    ingestFullOverNormal: round(i.full.median / i.normal.median),
    reps,
    publishOps,
    ingestOps: wire.length,
    note: `publish: sign + one transaction per operation; ingest: batches of ${BATCH}, verify on workers; medians, min, max over reps; a fresh file per run in the OS temp dir`,
  };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const ops = flag(args, '--ops', 40_000);
  const authors = flag(args, '--authors', 100);
  const reps = flag(args, '--reps', 3);
  const publishOps = flag(args, '--publish-ops', 2000);
  const dir = mkdtempSync(join(tmpdir(), 'walkaway-bench-core-'));
  try {
    const { signPerSec, verifyPerSec, verifyCpuUs } = rawEd25519();
    const createSerialPerSec = createSerial(SqliteStore.open(join(dir, 'serial.db')), ops);
    const createPerSec = await createPipelined(SqliteStore.open(join(dir, 'create.db')), ops);
    const wire = interleave(makeAuthorsLogs(authors, Math.ceil(ops / authors)));
    const pool = await VerifyPool.create();
    const { perSec: ingestPerSec, cpuUsPerOp: ingestCpuUsPerOp } = await ingest(SqliteStore.open(join(dir, 'ingest.db')), wire, pool);
    const durability = await durabilityCost(dir, wire, pool, reps, publishOps);
    await pool.close();
    return {
      signPerSec,
      verifyPerSec,
      createPerSec,
      ingestPerSec,
      createOverSign: round(createPerSec / signPerSec),
      ingestOverVerify: round(ingestPerSec / verifyPerSec),
      publishFullOverNormal: durability.publishFullOverNormal,
      ingestFullOverNormal: durability.ingestFullOverNormal,
      durability,
      detail: {
        createSerialPerSec,
        createSerialOverSign: round(createSerialPerSec / signPerSec),
        ops,
        ingestOps: wire.length,
        authors,
        batch: BATCH,
        verifyThreads: pool.threads,
        // CPU time (every thread) per raw verify and per ingested operation, and
        // the ratio they allow with every core free: less sensitive to other
        // load on the machine than the wall-clock ratio above.
        verifyCpuUs: round(verifyCpuUs),
        ingestCpuUsPerOp: round(ingestCpuUsPerOp),
        cpuBoundIngestOverVerify: round((pool.threads * verifyCpuUs) / ingestCpuUsPerOp),
        loadAverage: loadavg()[0],
        note: 'createPerSec: signing on a worker thread overlapped with SQLite storage on the main thread; ingestPerSec: decode + store on the main thread, Ed25519 verify on worker threads, one batch ahead',
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await run(process.argv.slice(2)), null, 2));
}
