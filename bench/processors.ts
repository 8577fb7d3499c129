/**
 * Benchmark `processors`: 100,000 signed causal operations from 20 authors
 * (each lists up to two recent operations of other authors in `previous`),
 * through causal ordering into an LWW map, with the released-cursor writes
 * (SQLite, every 1,024 acknowledgements) included; validation excluded (the
 * operations are signed beforehand and decoded before the clock starts).
 * Delivered once uniformly shuffled (nearly everything waits at first) and
 * once in order.
 *
 * Delivered in batches of `--batch` operations (64 by default), as a
 * pipeline hands them on: an ingest of an array of operations (one store
 * transaction, as sync does with what one message carries) releases them to
 * `CausalOrderer.processAll` together, and what that releases goes to
 * `LwwMap.processAll` (a node's topic orders what sync stored the same
 * way). The same measured one operation at a time (`process` and `commit`
 * for each, as a node orders gossip and its own publishes) is reported as
 * `oneByOne`.
 *
 *   npx tsx bench/processors.ts [--ops 100000] [--authors 20] [--batch 64] [--processes 5] [--runs 3] [--no-cache] [--only shuffled|in-order]
 *
 * Each of `--processes` fresh node processes makes `--runs` runs of each
 * delivery, alternating; the figures are medians over processes of each
 * process's medians. On a shared machine the same code measured in separate
 * processes gave ratios from 0.7 to 0.97 (each process gets its memory laid
 * out anew; runs within one process agree far better), so one process is
 * one sample, not a measurement.
 *
 * Each run receives (copies) and decodes its operations in delivery order,
 * as a node does when they arrive, so they sit in memory in the order they
 * came in. (Decoding once in creation order and shuffling references would
 * hand the in-order run a memory layout no network delivers.) The orderer
 * prepares each LWW write on arrival (`prepare`), so a release reads the
 * prepared write, not the operation that arrived long before; the map takes
 * each batch the orderer releases at once (`processAll`), as a pipeline
 * stage does.
 *
 * CPU milliseconds are reported beside wall-clock throughput: on a shared
 * machine they move less with other processes' load.
 *
 * The signed operations are cached in the OS temp directory (signing them
 * takes a few seconds).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createOperation, decodeOperationUnverified, PrivateKey, type Hash, type Operation } from '../src/core/index.ts';
import { CausalOrderer, encodeLwwWrite, LwwMap } from '../src/processors/index.ts';
import { SqliteStore, type StoredOperation } from '../src/store/index.ts';

interface Options {
  ops: number;
  authors: number;
  /** Operations per delivered batch; 1 measures one at a time only. */
  batch: number;
  runs: number;
  processes: number;
  cache: boolean;
  only?: 'shuffled' | 'in-order';
  /** Measure in this process (what each spawned process does). */
  child: boolean;
}

const COUNTS = ['--ops', '--authors', '--batch', '--runs', '--processes'];

function parseArgs(args: string[]): Options {
  const opts: Options = { ops: 100_000, authors: 20, batch: 64, runs: 3, processes: 5, cache: true, child: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--no-cache') opts.cache = false;
    else if (a === '--child') opts.child = true;
    else if (a === '--only') opts.only = args[++i] === 'in-order' ? 'in-order' : 'shuffled';
    else if (COUNTS.includes(a)) {
      const n = Number(args[++i]);
      if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${a} needs a positive integer`);
      opts[a.slice(2) as 'ops' | 'authors' | 'batch' | 'runs' | 'processes'] = n;
    } else {
      throw new Error(`unknown argument ${JSON.stringify(a)}`);
    }
  }
  return opts;
}

/** mulberry32: seeded, so every run benchmarks the same history and shuffle. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(count: number, authors: number): Operation[] {
  const random = rng(1);
  const keys = Array.from({ length: authors }, (_, i) => {
    const seed = new Uint8Array(32);
    seed[0] = i + 1;
    seed[1] = 0xbe;
    return PrivateKey.fromBytes(seed);
  });
  const logId = new Uint8Array(32).fill(3);
  const tips: (Operation | undefined)[] = new Array(authors).fill(undefined);
  const all: Operation[] = [];
  for (let n = 0; n < count; n++) {
    const a = Math.floor(random() * authors);
    const tip = tips[a];
    const previous: Hash[] = [];
    // What this author has seen lately of the others: up to two of the last 64 operations.
    const links = all.length === 0 ? 0 : 1 + Math.floor(random() * 2);
    for (let i = 0; i < links; i++) previous.push(all[all.length - 1 - Math.floor(random() * Math.min(64, all.length))].hash);
    const op = createOperation({
      privateKey: keys[a],
      seqNum: tip ? tip.header.seqNum + 1 : 0,
      backlink: tip?.hash,
      body: encodeLwwWrite(`key-${Math.floor(random() * 1000)}`, n),
      extensions: { variant: 'causal', logId, timestamp: 1_700_000_000_000_000 + n, previous },
    });
    tips[a] = op;
    all.push(op);
  }
  return all;
}

/** An operation as it travels: header bytes and body bytes. */
export interface Wire {
  header: Uint8Array;
  body?: Uint8Array;
}

/** Length-prefixed header and body bytes, so a cached history decodes without signing. */
function serialize(ops: Operation[]): Uint8Array {
  let size = 0;
  for (const op of ops) size += 8 + op.headerBytes.length + (op.body?.length ?? 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const op of ops) {
    const body = op.body ?? new Uint8Array(0);
    view.setUint32(at, op.headerBytes.length);
    view.setUint32(at + 4, body.length);
    out.set(op.headerBytes, at + 8);
    out.set(body, at + 8 + op.headerBytes.length);
    at += 8 + op.headerBytes.length + body.length;
  }
  return out;
}

function deserialize(bytes: Uint8Array): Wire[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Wire[] = [];
  for (let at = 0; at < bytes.length; ) {
    const h = view.getUint32(at);
    const b = view.getUint32(at + 4);
    out.push({ header: bytes.slice(at + 8, at + 8 + h), body: b > 0 ? bytes.slice(at + 8 + h, at + 8 + h + b) : undefined });
    at += 8 + h + b;
  }
  return out;
}

/** The history in creation order, as bytes. */
function history(opts: Options): { wire: Wire[]; cached: boolean; prepareMs: number } {
  const start = performance.now();
  const file = join(tmpdir(), `walkaway-bench-processors-v1-${opts.ops}-${opts.authors}.bin`);
  if (opts.cache && existsSync(file)) {
    return { wire: deserialize(new Uint8Array(readFileSync(file))), cached: true, prepareMs: performance.now() - start };
  }
  const bytes = serialize(generate(opts.ops, opts.authors));
  if (opts.cache) writeFileSync(file, bytes);
  return { wire: deserialize(bytes), cached: false, prepareMs: performance.now() - start };
}

/** The benchmark's history (default options), as bytes in creation order, and its shuffled delivery. */
export function benchDeliveries(): { inOrder: Wire[]; shuffled: Wire[] } {
  const { wire } = history(parseArgs([]));
  return { inOrder: wire, shuffled: shuffled(wire, 42) };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = rng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

interface RunResult {
  perSec: number;
  ms: number;
  cpuMs: number;
  peakPending: number;
  cursorWrites: number;
  mapSize: number;
  peakRss: number;
}

/**
 * The warm-up runs' orderers and maps, alive until the end. A node keeps its
 * orderer for as long as it runs; a benchmark that drops every run's
 * instances lets V8 collect the hidden classes they were the last users of,
 * and with them the optimized code built on those classes, so that each timed
 * run would compile everything again inside its clock (`--trace-deopt`:
 * "weak objects").
 */
const warmInstances: unknown[] = [];

/**
 * Ordering + LWW map + acknowledgements with batched cursor writes, in
 * batches of `batch` operations (1: `process` on each); nothing else is timed.
 */
function runOnce(delivery: Wire[], dir: string, label: string, batch: number): RunResult {
  collectGarbage();
  // Received (copied), decoded without the signature check and numbered as they arrive, before the clock starts.
  const stored: StoredOperation[] = delivery.map((w, i) => ({ ...decodeOperationUnverified(w.header.slice(), w.body?.slice()), localSeq: i + 1 }));
  const batches: StoredOperation[][] = [];
  for (let i = 0; batch > 1 && i < stored.length; i += batch) batches.push(stored.slice(i, i + batch));
  collectGarbage(); // the previous run's garbage is not this run's cost
  const store = SqliteStore.open(join(dir, `${label}-${batch}.db`));
  const map = new LwwMap();
  const orderer = new CausalOrderer({ store, batchSize: 1024, maxPending: stored.length, prepare: (op) => map.prepare(op), discard: (op, p) => map.discard(op, p) });
  let peakRss = process.memoryUsage().rss;
  let released = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  if (batch === 1) {
    for (let i = 0; i < stored.length; i++) {
      const out = orderer.process(stored[i]);
      map.processAll(out);
      released += out.length;
      orderer.commit();
      if ((i & 8191) === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
  } else {
    for (let i = 0; i < batches.length; i++) {
      const out = orderer.processAll(batches[i]);
      map.processAll(out);
      released += out.length;
      orderer.commit();
      if ((i & 127) === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
  }
  orderer.flush();
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  if (!label.startsWith('warmup') && released !== stored.length) throw new Error(`${label}: released ${released} of ${stored.length}`);
  const stats = orderer.stats();
  store.close();
  if (label.startsWith('warmup')) warmInstances.push(orderer, map);
  return {
    perSec: Math.round((stored.length / ms) * 1000),
    ms: Math.round(ms),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    peakPending: stats.peakPending,
    cursorWrites: stats.cursorWrites,
    mapSize: map.size,
    peakRss,
  };
}

/** A full GC between runs (node's `gc`, exposed for this process only). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opts = parseArgs(args);
  return opts.child ? measure(opts) : measureInProcesses(opts, args);
}

/** Spawns `opts.processes` processes one after another and takes medians over them. */
function measureInProcesses(opts: Options, args: string[]): Record<string, unknown> {
  history(opts); // sign (and cache) once, not in every process
  const file = fileURLToPath(import.meta.url);
  const samples: Record<string, number>[] = [];
  for (let p = 0; p < opts.processes; p++) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', file, '--child', ...args], {
      cwd: dirname(dirname(file)),
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (child.status !== 0) throw new Error(`benchmark process ${p} failed (${child.status}): ${child.stderr}`);
    samples.push(JSON.parse(child.stdout) as Record<string, number>);
  }
  const mid = (field: string) => median(samples.map((s) => s[field]));
  const most = (field: string) => Math.max(...samples.map((s) => s[field]));
  const shuffledPerSec = mid('shuffledPerSec');
  const inOrderPerSec = mid('inOrderPerSec');
  const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
  return {
    shuffledPerSec,
    inOrderPerSec,
    ratio: ratio(shuffledPerSec, inOrderPerSec),
    processRatios: samples.map((s) => s.ratio),
    batch: opts.batch,
    ...(opts.batch > 1 && {
      oneByOne: {
        shuffledPerSec: mid('oneByOneShuffledPerSec'),
        inOrderPerSec: mid('oneByOneInOrderPerSec'),
        ratio: ratio(mid('oneByOneShuffledPerSec'), mid('oneByOneInOrderPerSec')),
        processRatios: samples.map((s) => s.oneByOneRatio),
      },
    }),
    peakPending: most('peakPending'),
    peakPendingInOrder: most('peakPendingInOrder'),
    peakRssBytes: most('peakRssBytes'),
    operations: samples[0].operations,
    authors: samples[0].authors,
    processes: opts.processes,
    runs: opts.runs,
    shuffledMs: mid('shuffledMs'),
    inOrderMs: mid('inOrderMs'),
    shuffledCpuMs: mid('shuffledCpuMs'),
    inOrderCpuMs: mid('inOrderCpuMs'),
    cpuRatio: ratio(mid('inOrderCpuMs'), mid('shuffledCpuMs')),
    cursorWrites: samples[0].cursorWrites,
    lwwKeys: samples[0].lwwKeys,
    node: process.version,
  };
}

/** The measurement itself, in this process. */
function measure(opts: Options): Record<string, unknown> {
  const { wire: ops, cached, prepareMs } = history(opts);
  const dir = mkdtempSync(join(tmpdir(), 'walkaway-bench-proc-'));
  try {
    const mixed = shuffled(ops, 42); // as benchDeliveries
    const batches = opts.batch > 1 ? [opts.batch, 1] : [1];
    // JIT warm-up, in each way of delivering: a shuffled prefix (most of it stays pending), the first 10,000 shuffled (released in cascades), in order.
    for (const batch of batches) {
      runOnce(mixed.slice(0, 10_000), dir, 'warmup', batch);
      runOnce(shuffled(ops.slice(0, 10_000), 7), dir, 'warmup-cascade', batch);
      runOnce(ops.slice(0, 10_000), dir, 'warmup-in-order', batch);
    }
    const runs = batches.map(() => ({ shuffled: [] as RunResult[], inOrder: [] as RunResult[] }));
    for (let r = 0; r < opts.runs; r++) {
      batches.forEach((batch, b) => {
        if (opts.only !== 'in-order') runs[b].shuffled.push(runOnce(mixed, dir, `shuffled-${r}`, batch));
        if (opts.only !== 'shuffled') runs[b].inOrder.push(runOnce(ops, dir, `in-order-${r}`, batch));
      });
    }
    const { shuffled: shuffledRuns, inOrder: inOrderRuns } = runs[0];
    const shuffledPerSec = median(shuffledRuns.map((x) => x.perSec)) ?? 0;
    const inOrderPerSec = median(inOrderRuns.map((x) => x.perSec)) ?? 0;
    const oneByOne = runs.length > 1 ? runs[1] : undefined;
    const oneShuffled = oneByOne ? (median(oneByOne.shuffled.map((x) => x.perSec)) ?? 0) : 0;
    const oneInOrder = oneByOne ? (median(oneByOne.inOrder.map((x) => x.perSec)) ?? 0) : 0;
    return {
      shuffledPerSec,
      inOrderPerSec,
      ratio: Math.round((shuffledPerSec / inOrderPerSec) * 1000) / 1000,
      batch: opts.batch,
      oneByOneShuffledPerSec: oneShuffled,
      oneByOneInOrderPerSec: oneInOrder,
      oneByOneRatio: Math.round((oneShuffled / oneInOrder) * 1000) / 1000,
      peakPending: Math.max(...shuffledRuns.map((x) => x.peakPending)),
      peakPendingInOrder: Math.max(...inOrderRuns.map((x) => x.peakPending)),
      peakRssBytes: Math.max(...shuffledRuns.map((x) => x.peakRss), ...inOrderRuns.map((x) => x.peakRss)),
      operations: ops.length,
      authors: opts.authors,
      runs: opts.runs,
      shuffledMs: median(shuffledRuns.map((x) => x.ms)),
      inOrderMs: median(inOrderRuns.map((x) => x.ms)),
      shuffledCpuMs: median(shuffledRuns.map((x) => x.cpuMs)),
      inOrderCpuMs: median(inOrderRuns.map((x) => x.cpuMs)),
      cpuRatio: Math.round((median(inOrderRuns.map((x) => x.cpuMs)) / median(shuffledRuns.map((x) => x.cpuMs))) * 1000) / 1000,
      cursorWrites: (shuffledRuns[0] ?? inOrderRuns[0]).cursorWrites,
      lwwKeys: (shuffledRuns[0] ?? inOrderRuns[0]).mapSize,
      historyCached: cached,
      prepareMs: Math.round(prepareMs),
      node: process.version,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run(process.argv.slice(2)).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
