/**
 * Benchmark `net` (issue 6): N node processes on 127.0.0.1 in one topic, a
 * star of bootstrap addresses (nodes 1..N-1 dial node 0); one publisher
 * (node 1, a leaf) sends M operations of 200 bytes. Walkaway nodes (SQLite
 * stores, HyParView/PlumTree overlay) first, then the same topology with
 * `@libp2p/gossipsub` 17 on the same libp2p 3 stack, in the same run.
 *
 *   npm run bench -- net [--messages 10000] [--nodes 8] [--window 100]
 *     [--max-seconds 45] [--storage sqlite|memory] [--only walkaway|gossipsub]
 *     [--cpu-prof DIR]
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
 * The measured run stops publishing after --max-seconds (default 45) so that
 * the whole benchmark stays within about 3 minutes on a shared 2-core machine;
 * `sent` says how many of the M messages went out, and every figure is over
 * those.
 *
 * Phases: warm-up (200 messages, builds the PlumTree tree and the GossipSub
 * mesh, not reported), light load (100 messages at 50/s: latency without
 * queueing), then the measured run (M messages, as fast as the window lets).
 *
 * Figures of the measured run: throughput = M / (last delivery at the
 * slowest node - first publish); latency = delivery wall time minus the send
 * time the publisher stamps in the payload, over every delivery at every
 * receiver; RMR = payload copies sent by all nodes / deliveries - 1 (the
 * sim's m/(n-1) - 1, summed over messages).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const WARMUP = 200;
const LIGHT = 100;
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
    this.proc = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', here(file), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
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
  cpuProf?: string;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (x: number, digits = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : null);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runPhase(children: Child[], o: Options, phase: number, count: number, rate: number, maxMs = 0): Promise<Msg> {
  const publisher = children[o.publisher];
  const receivers = children.filter((c) => c !== publisher);
  const delivered = new Map<Child, number>(receivers.map((c) => [c, 0]));
  let acked = 0;
  let target = count;
  let lastProgress = performance.now();
  let complete!: () => void;
  const allDone = new Promise<void>((r) => (complete = r));
  for (const c of receivers) {
    c.onProgress = (p, n) => {
      if (p !== phase) return;
      delivered.set(c, n);
      lastProgress = performance.now();
      const min = Math.min(...delivered.values());
      if (min > acked) {
        acked = min;
        publisher.send({ cmd: 'acked', phase, n: min });
      }
      if (min >= target) complete();
    };
  }
  await Promise.all(receivers.map((c) => c.request({ cmd: 'phase', phase, count, publisher: false }, 'phase-started')));
  const published = publisher.next('published', 600_000);
  // The publisher may stop early (maxMs): then the phase ends when what it sent is delivered.
  void published.then((p) => {
    target = p.sent;
    if (Math.min(...delivered.values()) >= target) complete();
  }, () => {});
  await publisher.request({ cmd: 'phase', phase, count, publisher: true, window: o.window, rate, maxMs }, 'phase-started');
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
  const pub = await Promise.race([published, sleep(1000).then(() => undefined)]);
  // Late control traffic (IHAVEs, grafts, prunes) of the last messages counts too.
  await sleep(500);
  const reports = await Promise.all(children.map((c) => c.request({ cmd: 'report', phase }, 'report', 30_000)));
  for (const c of receivers) c.onProgress = () => {};
  return { published: pub, reports, sent: target, stalled: Math.min(...delivered.values()) < target };
}

function summarise(o: Options, run: Msg): Msg {
  const { reports, published } = run;
  const count: number = run.sent;
  const receivers = reports.filter((_: Msg, i: number) => i !== o.publisher);
  const start = published?.start ?? Math.min(...receivers.map((r: Msg) => r.first));
  const lats: number[] = receivers.flatMap((r: Msg) => r.lat as number[]);
  const sorted = Float64Array.from(lats).sort();
  const delivered = receivers.reduce((s: number, r: Msg) => s + r.delivered, 0);
  const copies = reports.reduce((s: number, r: Msg) => s + (r.counters.payloadSent ?? 0), 0);
  const perNode = receivers.map((r: Msg) => (r.delivered * 1000) / (r.last - start));
  const slowestLast = Math.max(...receivers.map((r: Msg) => r.last));
  const minDelivered = Math.min(...receivers.map((r: Msg) => r.delivered));
  const wallMs = Math.max(...reports.map((r: Msg) => r.wallMs));
  const cpuMs = reports.reduce((s: number, r: Msg) => s + r.cpuMs, 0);
  const sum = (key: string) => reports.reduce((s: number, r: Msg) => s + (r.counters[key] ?? 0), 0);
  const controls: Msg = {};
  for (const key of Object.keys(reports[0].counters)) if (key !== 'payloadSent') controls[key] = round(sum(key), 1);
  return {
    sent: count,
    opsPerSec: round((minDelivered * 1000) / (slowestLast - start), 0),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted[sorted.length - 1] ?? NaN),
    rmr: round(copies / delivered - 1, 3),
    // Walkaway only: operations that sync sessions carried as well (each one also a payload copy).
    rmrWithSync: reports[0].counters.syncOpsSent === undefined ? null : round((copies + sum('syncOpsSent')) / delivered - 1, 3),
    deliveredFraction: round(delivered / (count * receivers.length), 4),
    publishPerSec: published ? round((count * 1000) / (published.end - published.start), 0) : null,
    windowWaits: published?.windowWaits ?? null,
    perNodeOpsPerSec: { min: round(Math.min(...perNode), 0), max: round(Math.max(...perNode), 0) },
    payloadCopies: copies,
    cpuCoresUsed: round(cpuMs / wallMs, 2),
    cpuMsPerNode: { publisher: round(reports[o.publisher].cpuMs, 0), receiverMax: round(Math.max(...receivers.map((r: Msg) => r.cpuMs)), 0) },
    rssMaxBytes: Math.max(...reports.map((r: Msg) => r.rssBytes)),
    stalled: run.stalled,
    counters: controls,
  };
}

async function runSide(name: 'walkaway' | 'gossipsub', o: Options): Promise<Msg> {
  const dir = mkdtempSync(join(tmpdir(), `walkaway-bench-net-${name}-`));
  const flags = o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', join(o.cpuProf, name)] : [];
  const children: Child[] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < o.nodes; i++) {
      const args = name === 'walkaway' ? [join(dir, `node-${i}`), o.storage] : [];
      children.push(new Child(i, name === 'walkaway' ? './net-walkaway.ts' : './net-gossipsub.ts', args, flags));
    }
    const ready = await Promise.all(children.map((c) => c.next('ready', 120_000)));
    const startedMs = performance.now() - t0;
    const hub = ready[0];
    // The star: every node dials node 0. GossipSub nodes also dial the others
    // (the discovery GossipSub leaves to others; see net-gossipsub.ts).
    await Promise.all(
      children.map((c, i) => {
        if (i === 0) return c.request({ cmd: 'connect', bootstrap: [], all: [] }, 'connected');
        const bootstrap = name === 'walkaway' ? [hub.ticket] : [hub.addresses[0]];
        const all = name === 'walkaway' ? [] : ready.slice(1, i).map((r) => r.addresses[0]);
        return c.request({ cmd: 'connect', bootstrap, all }, 'connected');
      }),
    );
    // Settle: every node has overlay neighbours (GossipSub: a mesh of Dlo).
    const settleStart = performance.now();
    let status: Msg[] = [];
    while (performance.now() - settleStart < 20_000) {
      status = await Promise.all(children.map((c) => c.request({ cmd: 'status' }, 'status')));
      const ok =
        name === 'walkaway'
          ? status.every((s) => s.active >= 1)
          : status.every((s) => s.mesh >= Math.min(4, o.nodes - 1) && s.subscribers >= o.nodes - 1);
      if (ok) break;
      await sleep(250);
    }
    await sleep(1000);
    const settledMs = performance.now() - settleStart;
    const warm = await runPhase(children, o, 1, WARMUP, 0);
    const light = await runPhase(children, o, 2, LIGHT, LIGHT_RATE);
    const main = await runPhase(children, o, 3, o.messages, 0, o.maxSeconds * 1000);
    const result = summarise(o, main);
    const l = summarise(o, light);
    const w = summarise(o, warm);
    const final = main.reports.map((r: Msg) => r.status);
    return {
      ...result,
      light: { rate: LIGHT_RATE, p50Ms: l.p50Ms, p99Ms: l.p99Ms, maxMs: l.maxMs, rmr: l.rmr, deliveredFraction: l.deliveredFraction },
      warmup: { p99Ms: w.p99Ms, rmr: w.rmr, deliveredFraction: w.deliveredFraction },
      topology: name === 'walkaway'
        ? { activeView: final.map((s: Msg) => s.active).join(' '), eagerPeers: final.map((s: Msg) => s.eager).join(' '), connections: final.map((s: Msg) => s.connections).join(' ') }
        : { mesh: final.map((s: Msg) => s.mesh).join(' '), connections: final.map((s: Msg) => s.connections).join(' ') },
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
  const opt = (name: string, fallback: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
  };
  const o: Options = {
    nodes: Number(opt('nodes', '8')),
    messages: Number(opt('messages', '10000')),
    window: Number(opt('window', '100')),
    maxSeconds: Number(opt('max-seconds', '45')),
    publisher: 1,
    storage: opt('storage', 'sqlite'),
    cpuProf: opt('cpu-prof', '') || undefined,
  };
  if (o.nodes < 2) throw new Error('--nodes must be at least 2');
  const only = opt('only', '');
  const load = loadavg()[0];
  const walkaway = only === 'gossipsub' ? undefined : await runSide('walkaway', o);
  const gs = only === 'walkaway' ? undefined : await runSide('gossipsub', o);
  const ratio = (a?: number | null, b?: number | null) => (a != null && b != null && b > 0 ? round(a / b, 3) : null);
  return {
    throughputRatio: ratio(walkaway?.opsPerSec, gs?.opsPerSec),
    p99Ratio: ratio(walkaway?.p99Ms, gs?.p99Ms),
    p99RatioLight: ratio(walkaway?.light.p99Ms, gs?.light.p99Ms),
    rmr: walkaway?.rmr ?? null,
    nodes: o.nodes,
    messages: o.messages,
    payloadBytes: 200,
    window: o.window,
    maxSeconds: o.maxSeconds,
    storage: o.storage,
    machine: { cores: cpus().length, loadAvg1mAtStart: round(load, 2) },
    walkaway: walkaway ?? null,
    gossipsub: gs ?? null,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { printTable } = await import('./table.ts');
  printTable(await run(process.argv.slice(2)));
}
