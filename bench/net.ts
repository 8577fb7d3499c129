/**
 * Benchmark `net` (issue 6): N node processes on 127.0.0.1 in one topic, a
 * star of bootstrap addresses (nodes 1..N-1 dial node 0); one publisher
 * (node 1, a leaf) sends M operations of 200 bytes. Walkaway nodes (SQLite
 * stores, HyParView/PlumTree overlay) first, then the same topology with
 * `@libp2p/gossipsub` 17 on the same libp2p 3 stack, in the same run.
 *
 *   npm run bench -- net [--messages 10000] [--nodes 8] [--window 100]
 *     [--max-seconds 10] [--light 1000] [--warmup-seconds 20]
 *     [--storage sqlite|memory] [--sides walkaway,gossipsub-default,...]
 *     [--cpu-prof DIR] [--base DIR]
 *   npx tsx bench/net.ts [same flags]
 *
 * Closed loop, the same rule for both sides: the publisher keeps at most
 * `window` messages ahead of the slowest receiver (receivers report their
 * delivered counts every 32 messages or 5 ms through the parent, which
 * forwards the minimum to the publisher). Neither side's publish call
 * signals full send buffers (Walkaway's `tx.publish` resolves once the
 * operation is stored and queued to the overlay; GossipSub's once it is
 * queued to the streams), so the window is what closes the loop.
 *
 * The saturated runs stop publishing after --max-seconds (default 10) so that
 * the whole benchmark stays within about 3 minutes on a shared 2-core machine;
 * `sent` says how many of the M messages went out, and every figure is over
 * those.
 *
 * Phases: warm-up (200 messages as fast as the window lets, builds the
 * PlumTree tree and the GossipSub mesh; then --warmup-seconds of every node
 * sending at the light rate; neither reported), light load (--light messages
 * at 50/s from one sender, then from all: latency without queueing), then
 * the saturated runs (M messages, as fast as the window lets).
 *
 * `--base DIR`: a side `walkaway-base` runs DIR/bench/net-walkaway.ts (a
 * checkout of the code before a change, e.g. `git archive` of a commit with
 * node_modules linked), interleaved with `walkaway`: before and after under
 * the same load.
 *
 * Figures of the measured run: throughput = M / (last delivery at the
 * slowest node - first publish); latency = delivery wall time minus the send
 * time the publisher stamps in the payload, over every delivery at every
 * receiver; RMR = payload copies sent by all nodes / deliveries - 1 (the
 * sim's m/(n-1) - 1, summed over messages).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { flag, interleave, medians, ratio, type Interleaved, type Sample } from './harness.ts';
import { barChart, barsOf } from './svg.ts';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const WARMUP = 200;
const LIGHT_RATE = 50;
const STALL_MS = 20_000;

type Msg = Record<string, any>;

class Child {
  readonly proc: ChildProcess;
  readonly index: number;
  #waiters: { type: string; resolve: (m: Msg) => void; reject: (e: Error) => void }[] = [];
  onProgress: (phase: number, n: number) => void = () => {};
  onMessage: (m: Msg) => void = () => {};
  exited = false;

  constructor(index: number, file: string, args: string[], nodeFlags: string[]) {
    this.index = index;
    const path = file.startsWith('/') ? file : here(file);
    this.proc = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', path, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.proc.on('exit', () => {
      this.exited = true;
      for (const w of this.#waiters.splice(0)) w.reject(new Error(`node ${index} exited while waiting for ${w.type}`));
    });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let m: Msg;
      try {
        m = JSON.parse(line);
      } catch {
        return;
      }
      if (m.type === 'progress') return this.onProgress(m.phase, m.n);
      if (m.type === 'error') console.error(`node ${index}: ${m.message}`);
      this.onMessage(m);
      const i = this.#waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.#waiters.splice(i, 1)[0].resolve(m);
    });
  }

  send(m: Msg): void {
    if (!this.exited) this.proc.stdin!.write(JSON.stringify(m) + '\n');
  }

  next(type: string, timeoutMs = 60_000): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${this.index}: no ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({
        type,
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }

  async request(m: Msg, type: string, timeoutMs?: number): Promise<Msg> {
    const p = this.next(type, timeoutMs);
    this.send(m);
    return p;
  }

  async exit(): Promise<void> {
    if (this.exited) return;
    const done = new Promise((r) => this.proc.once('exit', r));
    this.send({ cmd: 'exit' });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  }
}

interface Options {
  nodes: number;
  messages: number;
  window: number;
  publisher: number;
  storage: string;
  maxSeconds: number;
  /** Messages of each light phase (50 msg/s). */
  light: number;
  /** Light traffic from every node before the light phases, not reported. */
  warmupSeconds: number;
  cpuProf?: string;
  /** A checkout whose bench/net-walkaway.ts is the side `walkaway-base`. */
  base?: string;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (x: number, digits = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : null);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `publishers`: the indices of the publishing nodes (one, or every node). */
async function runPhase(children: Child[], o: Options, phase: number, count: number, rate: number, maxMs: number, publishers: number[]): Promise<Msg> {
  const pubs = publishers.map((i) => children[i]);
  const receivers = children.filter((c) => !pubs.includes(c) || pubs.length > 1);
  const own = new Map<Child, number>(children.map((c) => [c, 0]));
  pubs.forEach((c, k) => own.set(c, Math.max(0, Math.ceil((count - k) / pubs.length))));
  const delivered = new Map<Child, number>(receivers.map((c) => [c, 0]));
  const target = new Map<Child, number>(receivers.map((c) => [c, count - own.get(c)!]));
  // Progress of the slowest receiver in message indices (a publisher never receives its own 1/n).
  const progress = () => Math.min(...receivers.map((c) => (delivered.get(c)! * count) / Math.max(1, count - own.get(c)!)));
  let acked = 0;
  let lastProgress = performance.now();
  let complete!: () => void;
  const allDone = new Promise<void>((r) => (complete = r));
  const check = () => {
    if (receivers.every((c) => delivered.get(c)! >= target.get(c)!)) complete();
  };
  for (const c of receivers) {
    c.onProgress = (p, n) => {
      if (p !== phase) return;
      delivered.set(c, n);
      lastProgress = performance.now();
      const min = Math.floor(progress());
      if (min > acked) {
        acked = min;
        for (const pub of pubs) pub.send({ cmd: 'acked', phase, n: min });
      }
      check();
    };
  }
  const idle = children.filter((c) => !pubs.includes(c));
  await Promise.all(idle.map((c) => c.request({ cmd: 'phase', phase, count, publisher: false }, 'phase-started')));
  const published = Promise.all(pubs.map((c) => c.next('published', 600_000)));
  // Publishers may stop early (maxMs): then the phase ends when what they sent is delivered.
  void published.then(
    (ps) => {
      const total = ps.reduce((n, p) => n + p.sent, 0);
      pubs.forEach((c, k) => own.set(c, ps[k].sent));
      for (const c of receivers) target.set(c, total - own.get(c)!);
      check();
    },
    () => {},
  );
  await Promise.all(
    pubs.map((c, k) =>
      c.request({ cmd: 'phase', phase, count, publisher: true, window: o.window, rate, maxMs, publisherIndex: k, publishers: pubs.length }, 'phase-started'),
    ),
  );
  const stall = new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (performance.now() - lastProgress > STALL_MS) {
        clearInterval(timer);
        resolve();
      }
    }, 500);
    void allDone.then(() => clearInterval(timer));
  });
  await Promise.race([allDone, stall]);
  const ps = await Promise.race([published, sleep(1000).then(() => undefined)]);
  // Late control traffic (IHAVEs, grafts, prunes) of the last messages counts too.
  await sleep(500);
  const reports = await Promise.all(children.map((c) => c.request({ cmd: 'report', phase }, 'report', 30_000)));
  for (const c of receivers) c.onProgress = () => {};
  const targets = receivers.reduce((n, c) => n + target.get(c)!, 0);
  const sent = ps ? ps.reduce((n, p) => n + p.sent, 0) : count;
  const start = ps ? Math.min(...ps.map((p) => p.start)) : undefined;
  const end = ps ? Math.max(...ps.map((p) => p.end)) : undefined;
  return {
    reports,
    receivers: receivers.map((c) => c.index),
    sent,
    targets,
    start,
    end,
    windowWaits: ps ? ps.reduce((n, p) => n + p.windowWaits, 0) : null,
    stalled: receivers.some((c) => delivered.get(c)! < target.get(c)!),
  };
}

function summarise(run: Msg): Msg {
  const reports: Msg[] = run.reports;
  const receivers: Msg[] = run.receivers.map((i: number) => reports[i]);
  const start = run.start ?? Math.min(...receivers.map((r: Msg) => r.first));
  const sorted = Float64Array.from(receivers.flatMap((r: Msg) => r.lat as number[])).sort();
  const delivered = receivers.reduce((s: number, r: Msg) => s + r.delivered, 0);
  const sum = (key: string) => reports.reduce((s: number, r: Msg) => s + (r.counters[key] ?? 0), 0);
  const copies = sum('payloadSent');
  const slowestLast = Math.max(...receivers.map((r: Msg) => r.last));
  const wallMs = Math.max(...reports.map((r: Msg) => r.wallMs));
  const cpuMs = reports.reduce((s: number, r: Msg) => s + r.cpuMs, 0);
  const controls: Msg = {};
  for (const key of Object.keys(reports[0].counters)) if (key !== 'payloadSent') controls[key] = round(sum(key), 1);
  return {
    sent: run.sent,
    // Deliveries per second summed over receivers / receivers: messages per second every node got.
    opsPerSec: round(((delivered / receivers.length) * 1000) / (slowestLast - start), 0),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted[sorted.length - 1] ?? NaN),
    rmr: round(copies / delivered - 1, 3),
    // Walkaway only: operations that sync sessions carried as well (each one also a payload copy).
    rmrWithSync: reports[0].counters.syncOpsSent === undefined ? null : round((copies + sum('syncOpsSent')) / delivered - 1, 3),
    deliveredFraction: round(delivered / run.targets, 4),
    // Every node's CPU (all threads) and every byte on every connection, per delivery.
    cpuUsPerDelivery: round((cpuMs * 1000) / delivered, 1),
    wireBytesPerDelivery: round(sum('wireBytes') / delivered, 1),
    cpuCoresUsed: round(cpuMs / wallMs, 2),
    rssMaxMB: round(Math.max(...reports.map((r: Msg) => r.rssBytes)) / 2 ** 20, 1),
    windowWaits: run.windowWaits,
    stalled: run.stalled,
    counters: controls,
  };
}

// `walkaway-memory`: the same node on its memory store, the work GossipSub does
// (nothing persisted): what the network stack costs without the SQLite commits.
type SideName = 'walkaway' | 'walkaway-memory' | 'walkaway-base' | 'gossipsub-default' | 'gossipsub-tuned';
const SIDES: SideName[] = ['walkaway', 'walkaway-memory', 'gossipsub-default', 'gossipsub-tuned'];

/** One boot of N nodes of a side; every phase on it; flat figures for the harness plus details. */
async function runSide(name: SideName, o: Options, details: Record<string, Msg>): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), `walkaway-bench-net-${name}-`));
  const walkaway = name.startsWith('walkaway');
  const walkawayFile = name === 'walkaway-base' ? join(o.base!, 'bench', 'net-walkaway.ts') : './net-walkaway.ts';
  const flags = o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', join(o.cpuProf, name)] : [];
  const children: Child[] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < o.nodes; i++) {
      const args = walkaway
        ? [join(dir, `node-${i}`), name === 'walkaway-memory' ? 'memory' : o.storage]
        : [name === 'gossipsub-tuned' ? 'tuned' : 'default', String(o.nodes)];
      children.push(new Child(i, walkaway ? walkawayFile : './net-gossipsub.ts', args, flags));
    }
    const ready = await Promise.all(children.map((c) => c.next('ready', 400_000)));
    const startedMs = performance.now() - t0;
    const hub = ready[0];
    // The star: every node dials node 0. GossipSub nodes also dial the others
    // (the discovery GossipSub leaves to others; see net-gossipsub.ts).
    await Promise.all(
      children.map((c, i) => {
        if (i === 0) return c.request({ cmd: 'connect', bootstrap: [], all: [] }, 'connected');
        const bootstrap = walkaway ? [hub.ticket] : [hub.addresses[0]];
        const all = walkaway ? [] : ready.slice(1, i).map((r) => r.addresses[0]);
        return c.request({ cmd: 'connect', bootstrap, all }, 'connected');
      }),
    );
    // Settle: every node has overlay neighbours (GossipSub: a mesh of Dlo).
    const settleStart = performance.now();
    while (performance.now() - settleStart < 20_000) {
      const status = await Promise.all(children.map((c) => c.request({ cmd: 'status' }, 'status')));
      const ok = walkaway ? status.every((s) => s.active >= 1) : status.every((s) => s.mesh >= Math.min(s.dlo, o.nodes - 1) && s.subscribers >= o.nodes - 1);
      if (ok) break;
      await sleep(250);
    }
    await sleep(1000);
    const settledMs = performance.now() - settleStart;
    const everyone = children.map((_, i) => i);
    await runPhase(children, o, 1, WARMUP, 0, 0, [o.publisher]);
    // Steady state before measuring: every node sends at the light rate for
    // --warmup-seconds (JIT tiering and the first GCs otherwise land in the
    // light phases; the CPU of either side fell by a third over its first 30 s).
    if (o.warmupSeconds > 0) await runPhase(children, o, 6, Math.round(o.warmupSeconds * LIGHT_RATE), LIGHT_RATE, 0, everyone);
    const lightOneRun = await runPhase(children, o, 2, o.light, LIGHT_RATE, 0, [o.publisher]);
    const lightOne = summarise(lightOneRun);
    const lightAllRun = await runPhase(children, o, 3, o.light, LIGHT_RATE, 0, everyone);
    const lightAll = summarise(lightAllRun);
    // NET_TRACE=1 children report stage timestamps: the raw reports go to NET_TRACE_DIR (bench/net-trace.ts reads them).
    if (process.env.NET_TRACE_DIR) {
      const file = join(process.env.NET_TRACE_DIR, `${name}-${Date.now()}.json`);
      writeFileSync(file, JSON.stringify({ side: name, lightOne: lightOneRun, lightAll: lightAllRun }));
    }
    // --max-seconds 0: light load only (the saturated phases left out).
    const satOneRun = o.maxSeconds > 0 ? await runPhase(children, o, 4, o.messages, 0, o.maxSeconds * 1000, [o.publisher]) : undefined;
    const satAllRun = o.maxSeconds > 0 ? await runPhase(children, o, 5, o.messages, 0, o.maxSeconds * 1000, everyone) : undefined;
    const satOne: Msg = satOneRun ? summarise(satOneRun) : {};
    const satAll: Msg = satAllRun ? summarise(satAllRun) : {};
    const final = (satAllRun ?? lightAllRun).reports.map((r: Msg) => r.status);
    details[name] = {
      lightOne,
      lightAll,
      saturatedOne: satOne,
      saturatedAll: satAll,
      topology: walkaway
        ? {
            activeView: final.map((s: Msg) => s.active).join(' '),
            eagerPeers: final.map((s: Msg) => s.eager).join(' '),
            connections: final.map((s: Msg) => s.connections).join(' '),
          }
        : { mesh: final.map((s: Msg) => s.mesh).join(' '), connections: final.map((s: Msg) => s.connections).join(' ') },
    };
    return {
      lightOneP50Ms: lightOne.p50Ms,
      lightOneP99Ms: lightOne.p99Ms,
      lightAllP50Ms: lightAll.p50Ms,
      lightAllP99Ms: lightAll.p99Ms,
      lightOneBytesPerDelivery: lightOne.wireBytesPerDelivery,
      lightAllBytesPerDelivery: lightAll.wireBytesPerDelivery,
      lightOneCpuUsPerDelivery: lightOne.cpuUsPerDelivery,
      lightAllCpuUsPerDelivery: lightAll.cpuUsPerDelivery,
      satOneOpsPerSec: satOne.opsPerSec,
      satAllOpsPerSec: satAll.opsPerSec,
      satOneP99Ms: satOne.p99Ms,
      satAllP99Ms: satAll.p99Ms,
      satOneBytesPerDelivery: satOne.wireBytesPerDelivery,
      satAllBytesPerDelivery: satAll.wireBytesPerDelivery,
      satOneCpuUsPerDelivery: satOne.cpuUsPerDelivery,
      satAllCpuUsPerDelivery: satAll.cpuUsPerDelivery,
      satOneRmr: satOne.rmr,
      satAllRmr: satAll.rmr,
      lightOneDelivered: lightOne.deliveredFraction,
      lightAllDelivered: lightAll.deliveredFraction,
      satOneDelivered: satOne.deliveredFraction,
      satAllDelivered: satAll.deliveredFraction,
      rssMaxMB: satAll.rssMaxMB,
      startupMs: round(startedMs, 0),
      settleMs: round(settledMs, 0),
      sideWallMs: round(performance.now() - t0, 0),
    };
  } finally {
    await Promise.all(children.map((c) => c.exit().catch(() => {})));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const o: Options = {
    nodes: Number(flag(args, 'nodes', '8')),
    messages: Number(flag(args, 'messages', '10000')),
    window: Number(flag(args, 'window', '100')),
    maxSeconds: Number(flag(args, 'max-seconds', '10')),
    light: Number(flag(args, 'light', '1000')),
    warmupSeconds: Number(flag(args, 'warmup-seconds', '20')),
    publisher: 1,
    storage: flag(args, 'storage', 'sqlite'),
    cpuProf: flag(args, 'cpu-prof', '') || undefined,
    base: flag(args, 'base', '') || undefined,
  };
  if (o.nodes < 2) throw new Error('--nodes must be at least 2');
  if (!(o.light >= 100)) throw new Error('--light must be at least 100 messages');
  if (!(o.warmupSeconds >= 0)) throw new Error('--warmup-seconds must be 0 or more');
  const reps = Number(flag(args, 'reps', '3'));
  const sides = flag(args, 'sides', SIDES.join(',')).split(',') as SideName[];
  if (o.base && !sides.includes('walkaway-base')) sides.splice(sides.indexOf('walkaway') + 1, 0, 'walkaway-base');
  const details: Record<string, Msg[]> = {};
  const result = await interleave(
    Object.fromEntries(
      sides.map((s) => [
        s,
        async () => {
          const d: Record<string, Msg> = {};
          try {
            return await runSide(s, o, d);
          } finally {
            if (d[s]) (details[s] ??= []).push(d[s]);
          }
        },
      ]),
    ),
    reps,
  );
  const m = (s: string) => medians(result.sides[s]);
  const w = m('walkaway');
  const t = m('gossipsub-tuned');
  const summary = {
    nodes: o.nodes,
    reps,
    goals: {
      'light p99 one sender / tuned GossipSub (<= 1.0)': ratio(w.lightOneP99Ms, t.lightOneP99Ms),
      'light p99 all send / tuned GossipSub (<= 1.0)': ratio(w.lightAllP99Ms, t.lightAllP99Ms),
      'light bytes/delivery one sender / tuned GossipSub (<= 1.0)': ratio(w.lightOneBytesPerDelivery, t.lightOneBytesPerDelivery),
      'saturated bytes/delivery all send / tuned GossipSub (<= 1.0)': ratio(w.satAllBytesPerDelivery, t.satAllBytesPerDelivery),
      'saturated throughput one sender / tuned GossipSub': ratio(w.satOneOpsPerSec, t.satOneOpsPerSec),
      'saturated throughput all send / tuned GossipSub': ratio(w.satAllOpsPerSec, t.satAllOpsPerSec),
      ...(sides.includes('walkaway-memory')
        ? {
            'memory store: light p99 one sender / tuned GossipSub': ratio(m('walkaway-memory').lightOneP99Ms, t.lightOneP99Ms),
            'memory store: light p99 all send / tuned GossipSub': ratio(m('walkaway-memory').lightAllP99Ms, t.lightAllP99Ms),
          }
        : {}),
    },
    medians: Object.fromEntries(sides.map((s) => [s, m(s)])),
    ...(o.base ? { againstBase: againstBase(w, m('walkaway-base')) } : {}),
    load: result.load,
  };
  return {
    summary,
    messages: o.messages,
    payloadBytes: 200,
    window: o.window,
    maxSeconds: o.maxSeconds,
    storage: o.storage,
    lightRate: LIGHT_RATE,
    lightMessages: o.light,
    warmupSeconds: o.warmupSeconds,
    charts: netCharts(result, sides),
    ...result,
    details,
  };
}

/** `walkaway` over `walkaway-base` (after over before) for the light-load figures. */
function againstBase(after: Record<string, number>, before: Record<string, number>): Record<string, number | null> {
  const keys = ['lightOneP50Ms', 'lightOneP99Ms', 'lightAllP50Ms', 'lightAllP99Ms', 'lightOneBytesPerDelivery', 'lightOneCpuUsPerDelivery'];
  return Object.fromEntries(keys.map((k) => [`${k} after / before`, ratio(after[k], before[k])]));
}

function netCharts(r: Interleaved, sides: string[]): Record<string, string> {
  const note = `8 nodes, ${r.reps} interleaved reps, median with min-max; load ${r.load.before[0]} -> ${r.load.after[0]} on ${r.load.cores} cores`;
  const chart = (title: string, unit: string, keys: [string, string][]) =>
    barChart({ title, unit, series: sides, groups: keys.map(([label, key]) => ({ label, bars: barsOf(r.sides, sides, key) })), note });
  return {
    latency: chart('net: latency at 50 msg/s', 'ms', [
      ['p50 one sender', 'lightOneP50Ms'],
      ['p99 one sender', 'lightOneP99Ms'],
      ['p50 all send', 'lightAllP50Ms'],
      ['p99 all send', 'lightAllP99Ms'],
    ]),
    cost: chart('net: cost per delivered message', 'bytes / CPU µs', [
      ['bytes, light, one', 'lightOneBytesPerDelivery'],
      ['bytes, saturated, all', 'satAllBytesPerDelivery'],
      ['CPU µs, light, one', 'lightOneCpuUsPerDelivery'],
      ['CPU µs, saturated, all', 'satAllCpuUsPerDelivery'],
    ]),
    throughput: chart('net: saturated throughput', 'messages/s per node', [
      ['one sender', 'satOneOpsPerSec'],
      ['all send', 'satAllOpsPerSec'],
    ]),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { printTable } = await import('./table.ts');
  const result = await run(process.argv.slice(2));
  printTable(result.summary as Record<string, unknown>);
}
