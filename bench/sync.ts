/**
 * Benchmark `sync` (issue 21): N operations (100-byte bodies, one author)
 * synced from a freshly started serving process to a fresh fetching process,
 * both over encrypted connections on 127.0.0.1, sides interleaved:
 *
 *   walkaway-all    Walkaway over its libp2p stream (TCP, pnet, Noise, yamux), every signature verified
 *   walkaway-tips   the same, `verify: 'tips'` (one signature per run of a log, as Hypercore checks one per batch)
 *   hypercore-bulk  Hypercore 11 `replicate()` (Noise) as configured for bulk download:
 *                   inflightRange [1024, 4096] (3,072 in flight over TCP), linear range
 *   hypercore-default  Hypercore's defaults (48 in flight over TCP, random order)
 *
 * Each sample: time (dial to last op stored), time to first op, CPU seconds
 * per op of the fetching and of the serving process, bytes on the wire per
 * op (both directions, handshakes and framing included), peak RSS of the
 * fetcher, disk bytes per op on the fetching side. The stores are filled
 * once by a `prepare` process; every sample starts a new serving process.
 * The two-core verify limit is N x (CPU µs of one Ed25519 verify on the
 * node's crypto) / 2, measured before and after the run.
 *
 * `--base <dir>` adds `base-all` and `base-tips`: the same two sides run
 * from another checkout (`git archive <commit> | tar -x -C <dir>`, with a
 * node_modules link), interleaved with this one, for before/after in one run.
 *
 *   npm run bench -- sync [--ops 100000] [--reps 3] [--sides a,b,...] [--base <dir>] [--prepared <dir>] [--save]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { crypto, PrivateKey } from '../src/core/index.ts';
import { barChart, barsOf } from './svg.ts';
import { flag, interleave, type Interleaved, medians, procCpuSeconds, ratio, round, spreadOf, type Sample } from './harness.ts';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const BODY_BYTES = 100;
const ALL_SIDES = ['walkaway-all', 'walkaway-tips', 'hypercore-bulk', 'hypercore-default'];

interface Child {
  proc: ChildProcess;
  next(type: string): Promise<Record<string, any>>;
}

function child(file: string, args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', file.startsWith('/') ? file : here(file), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  return {
    proc,
    async next(type) {
      while (true) {
        const { value, done } = await lines.next();
        if (done) throw new Error(`${file} ended before printing ${type}`);
        let msg: Record<string, any>;
        try {
          msg = JSON.parse(value);
        } catch {
          continue;
        }
        if (msg.type === type) return msg;
        if (msg.type === 'error') throw new Error(`${file} failed: ${value}`);
      }
    },
  };
}

/** A fresh serving process, one fetch, then the server is stopped. */
async function sample(file: string, serveArgs: string[], fetchArgs: (ready: Record<string, any>) => string[], ops: number): Promise<Sample> {
  const server = child(file, ['serve', ...serveArgs]);
  try {
    const ready = await server.next('ready');
    const serveCpu0 = procCpuSeconds(server.proc.pid!) ?? NaN;
    const done = await child(file, ['fetch', ...fetchArgs(ready)]).next('done');
    const serveCpu = (procCpuSeconds(server.proc.pid!) ?? NaN) - serveCpu0;
    if (done.stored !== ops) throw new Error(`${file} stored ${done.stored} of ${ops}`);
    return {
      ms: round(done.ms, 1),
      firstOpMs: round(done.firstMs, 1),
      opsPerSec: Math.round((ops / done.ms) * 1000),
      fetchCpuUsPerOp: round((done.cpuS / ops) * 1e6, 2),
      serveCpuUsPerOp: round((serveCpu / ops) * 1e6, 2),
      cpuUsPerOp: round(((done.cpuS + serveCpu) / ops) * 1e6, 2),
      wireBytesPerOp: round(done.wireBytes / ops, 1),
      diskBytesPerOp: round(done.diskBytes / ops, 1),
      peakRssMB: round(done.peakRssBytes / 2 ** 20, 1),
    };
  } finally {
    server.proc.stdin!.end();
    server.proc.kill();
  }
}

/** CPU µs of one Ed25519 verify with the node's crypto (one thread, one key). */
function verifyCpuUs(): number {
  const key = PrivateKey.fromBytes(new Uint8Array(32).fill(9));
  const message = new Uint8Array(120).fill(3);
  const signature = crypto().sign(key.toBytes(), message);
  const pub = key.publicKey.toBytes();
  const n = 3000;
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) if (!crypto().verify(pub, message, signature)) throw new Error('verify failed');
  const d = process.cpuUsage(cpu);
  return (d.user + d.system) / n;
}

async function prepared(file: string, args: string[]): Promise<void> {
  await child(file, ['prepare', ...args]).next('prepared');
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const ops = Number(flag(args, 'ops', '100000'));
  const reps = Number(flag(args, 'reps', '3'));
  const base = flag(args, 'base', '');
  const sides = flag(args, 'sides', [...ALL_SIDES, ...(base ? ['base-all', 'base-tips'] : [])].join(',')).split(',');
  // --prepared <dir>: the serving stores are kept there and filled only once (1M operations take minutes to make).
  const kept = flag(args, 'prepared', '');
  const dir = kept || mkdtempSync(join(tmpdir(), 'walkaway-bench-sync-'));
  const verifyBefore = verifyCpuUs();
  try {
    const walkawayDb = join(dir, 'walkaway-serve.db');
    const hyperDir = join(dir, 'hypercore-serve');
    const fill = (path: string) => !kept || !existsSync(path);
    if (sides.some((s) => s.startsWith('walkaway') || s.startsWith('base')) && fill(walkawayDb))
      await prepared('./sync-peer.ts', [walkawayDb, '1', String(ops), String(BODY_BYTES)]);
    if (sides.some((s) => s.startsWith('hypercore')) && fill(hyperDir)) await prepared('./sync-hypercore.ts', [hyperDir, String(ops), String(BODY_BYTES)]);
    let n = 0;
    const fresh = (tag: string) => join(dir, `${tag}-${n++}`);
    const walkaway =
      (verify: string, peer = './sync-peer.ts') =>
      async () => {
        const db = fresh('walkaway-fetch');
        try {
          return await sample(peer, [walkawayDb, 'libp2p'], (r) => [db, 'libp2p', r.address, verify], ops);
        } finally {
          rmSync(db, { force: true });
          rmSync(db + '-wal', { force: true });
          rmSync(db + '-shm', { force: true });
        }
      };
    const hypercore = (mode: string) => async () => {
      const d = fresh('hypercore-fetch');
      try {
        return await sample('./sync-hypercore.ts', [hyperDir], (r) => [d, r.address, r.key, String(ops), mode], ops);
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
    };
    const table: Record<string, () => Promise<Sample>> = {
      'walkaway-all': walkaway('all'),
      'walkaway-tips': walkaway('tips'),
      'base-all': walkaway('all', join(base, 'bench/sync-peer.ts')),
      'base-tips': walkaway('tips', join(base, 'bench/sync-peer.ts')),
      'hypercore-bulk': hypercore('bulk'),
      'hypercore-default': hypercore('default'),
    };
    const result = await interleave(Object.fromEntries(sides.map((s) => [s, table[s]])), reps);
    const verifyUs = spreadOf([verifyBefore, verifyCpuUs()]);
    const m = (s: string) => medians(result.sides[s]);
    // The baseline is the faster Hypercore configuration of the run (the stricter comparison).
    const hcSides = sides.filter((s) => s.startsWith('hypercore') && result.sides[s].samples.length > 0);
    const best = hcSides.sort((a, b) => m(a).ms - m(b).ms)[0];
    const hc = best ? m(best) : ({} as Record<string, number>);
    const leastBytes = Math.min(...hcSides.map((s) => m(s).wireBytesPerOp));
    // The two-core verify limit: every signature verified once, both cores doing nothing else.
    const limitMs = (ops * verifyUs.median) / 2 / 1000;
    // What the two cores must do in all, both processes together: a wall time under this is impossible.
    const cpuBoundMs = (s: string) => (ops * m(s).cpuUsPerOp) / 2 / 1000;
    const summary = {
      ops,
      reps,
      limit:
        'two-core verify limit = ops x (CPU µs of one Ed25519 verify, one thread, measured before and after the run) / 2; the serving process shares the same 2 cores',
      hypercoreBaseline: best ?? null,
      twoCoreVerifyLimitMs: round(limitMs, 1),
      verifyCpuUs: verifyUs.median,
      goals: {
        'tips time / Hypercore (<= 0.8)': ratio(m('walkaway-tips').ms, hc.ms),
        'all: time / two-core verify limit (wall, loaded machine)': ratio(m('walkaway-all').ms, limitMs),
        'all: verify CPU / fetch CPU per op (1 = nothing but verify)': ratio(verifyUs.median, m('walkaway-all').fetchCpuUsPerOp),
        'all: two-core CPU bound (both processes) / two-core verify limit': ratio(cpuBoundMs('walkaway-all'), limitMs),
        'all: time / two-core CPU bound (1 = both cores busy throughout)': ratio(m('walkaway-all').ms, cpuBoundMs('walkaway-all')),
        'wire bytes/op / Hypercore least (<= 1.2)': ratio(m('walkaway-all').wireBytesPerOp, leastBytes),
        'CPU/op both sides / Hypercore (tips)': ratio(m('walkaway-tips').cpuUsPerOp, hc.cpuUsPerOp),
        'CPU/op both sides / Hypercore (all)': ratio(m('walkaway-all').cpuUsPerOp, hc.cpuUsPerOp),
      },
      ...(base ? { 'after / before (medians of this run)': afterOverBefore(m) } : {}),
      medians: Object.fromEntries(sides.map((s) => [s, m(s)])),
      load: result.load,
    };
    return {
      summary,
      bodyBytes: BODY_BYTES,
      verifyCpuUs: verifyUs,
      charts: syncCharts(result, sides, ops),
      ...result,
    };
  } finally {
    if (!kept) rmSync(dir, { recursive: true, force: true });
  }
}

function afterOverBefore(m: (side: string) => Record<string, number>): Record<string, Record<string, number | null>> {
  const keys = ['ms', 'firstOpMs', 'fetchCpuUsPerOp', 'serveCpuUsPerOp', 'peakRssMB', 'wireBytesPerOp'];
  return Object.fromEntries(['all', 'tips'].map((v) => [v, Object.fromEntries(keys.map((k) => [k, ratio(m(`walkaway-${v}`)[k], m(`base-${v}`)[k])]))]));
}

function syncCharts(r: Interleaved, sides: string[], ops: number): Record<string, string> {
  const note = `${r.reps} interleaved reps, median with min-max; load ${r.load.before[0]} -> ${r.load.after[0]} on ${r.load.cores} cores`;
  const chart = (title: string, unit: string, keys: [string, string][]) =>
    barChart({ title, unit, series: sides, groups: keys.map(([label, key]) => ({ label, bars: barsOf(r.sides, sides, key) })), note });
  return {
    time: chart(`sync ${ops.toLocaleString('en-US')} ops: time`, 'ms', [
      ['time to last op', 'ms'],
      ['time to first op', 'firstOpMs'],
    ]),
    cost: chart(`sync ${ops.toLocaleString('en-US')} ops: cost per op`, 'µs CPU / bytes', [
      ['CPU µs fetch', 'fetchCpuUsPerOp'],
      ['CPU µs serve', 'serveCpuUsPerOp'],
      ['wire bytes', 'wireBytesPerOp'],
      ['disk bytes', 'diskBytesPerOp'],
    ]),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await run(process.argv.slice(2));
  const { printTable } = await import('./table.ts');
  printTable(result.summary as Record<string, unknown>);
}
