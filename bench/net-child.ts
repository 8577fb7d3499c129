/**
 * The part of a `net` benchmark child process (bench/net.ts) that does not
 * depend on the side under test: JSON lines on stdin/stdout, phases,
 * the publisher's closed loop, latency and progress bookkeeping.
 *
 * Parent -> child (stdin):
 *   {cmd:'connect', bootstrap:[addr], all:[addr]}
 *   {cmd:'status'}                          -> {type:'status', ...}
 *   {cmd:'phase', phase, count, publisher, window, rate, maxMs}   (the publisher stops at maxMs)
 *   {cmd:'acked', phase, n}                 the slowest receiver's count (publisher only)
 *   {cmd:'report', phase}                   -> {type:'report', ...}
 *   {cmd:'exit'}
 * Child -> parent (stdout):
 *   {type:'ready', addresses, id}, {type:'progress', phase, n}, {type:'published', ...}
 *
 * Payload (200 bytes): float64 send time (ms, sub-ms, see below), uint32
 * index, uint8 phase, then filler. Clocks: every process runs on the same
 * machine and reads its monotonic clock (`process.hrtime`, CLOCK_MONOTONIC:
 * one clock for all processes). Not `performance.timeOrigin + now()`: each
 * process fixes its origin from the wall clock when it starts, and a wall
 * clock slewed or stepped between two starts skewed every latency (negative
 * p50s were seen).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { countSocketBytes } from './sync-rss.ts';

export const PAYLOAD_BYTES = 200;

export interface Counters {
  /** Payload copies this process sent (eager pushes, grafted or forwarded copies). */
  payloadSent: number;
  [key: string]: number;
}

export interface Side {
  /** Starts listening; resolves with the addresses others dial. */
  start(): Promise<{ addresses: string[]; id: string; [extra: string]: unknown }>;
  connect(bootstrap: string[], all: string[]): Promise<void>;
  status(): Record<string, unknown>;
  publish(payload: Uint8Array): Promise<void>;
  /** Called for every message delivered to the application (not own ones). */
  onDeliver(cb: (payload: Uint8Array) => void): void;
  counters(): Counters;
  stop(): Promise<void>;
}

/** Milliseconds (sub-ms) on the machine's monotonic clock, the same in every process. */
export const wallNow = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * Stage timestamps (NET_TRACE=1): a side calls `stamp(stage, bytes)` with
 * any bytes that end with the bench payload (an operation's body is the
 * last field of its gossip payload); the first time per stage and message
 * index is kept and reported, so the parent can line the stages of one
 * message up across processes (one monotonic clock).
 */
export const TRACE = process.env.NET_TRACE === '1';
const stamps = new Map<string, Float64Array>();
let stampPhase: { phase: number; count: number } | undefined;

export function stamp(stage: string, bytes: Uint8Array | undefined, value?: number): void {
  if (!TRACE || !stampPhase || !bytes || bytes.length < PAYLOAD_BYTES) return;
  const at = value ?? wallNow();
  const off = bytes.byteOffset + bytes.length - PAYLOAD_BYTES;
  if (bytes[bytes.length - PAYLOAD_BYTES + 12] !== stampPhase.phase) return;
  const index = new DataView(bytes.buffer, off, PAYLOAD_BYTES).getUint32(8);
  if (index >= stampPhase.count) return;
  let row = stamps.get(stage);
  if (!row) stamps.set(stage, (row = new Float64Array(stampPhase.count).fill(NaN)));
  if (Number.isNaN(row[index])) row[index] = at;
}

function send(msg: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(msg) + '\n');
}

interface Phase {
  phase: number;
  count: number;
  delivered: number;
  first: number;
  last: number;
  lat: Float64Array;
  seen: Uint8Array;
  duplicates: number;
  counters: Counters;
  cpu: NodeJS.CpuUsage;
  wallStart: number;
  reported: number;
}

let profiler: Session | undefined;
async function startProfile(): Promise<void> {
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
  await profiler.post('Profiler.start');
}
async function stopProfile(dir: string): Promise<void> {
  if (!profiler) return;
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(`${dir}/light-${process.pid}.cpuprofile`, JSON.stringify(profile));
  profiler.disconnect();
  profiler = undefined;
}

export async function serve(side: Side): Promise<void> {
  // Bytes on the wire: every TCP connection this node dials, both directions
  // (each connection is dialled by exactly one node, so the sum over nodes
  // counts every byte once), handshakes, control traffic and framing included.
  const wire = countSocketBytes();
  const counters = (): Counters => ({ ...side.counters(), wireBytes: wire() });
  let phase: Phase | undefined;
  let acked = 0;
  // Event-loop stalls and GC pauses, per phase.
  // Only when tracing: the 1 ms sampling timer is load of its own.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  let gc = { count: 0, ms: 0, maxMs: 0 };
  if (TRACE) {
    loopDelay.enable();
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        gc.count++;
        gc.ms += e.duration;
        gc.maxMs = Math.max(gc.maxMs, e.duration);
      }
    }).observe({ entryTypes: ['gc'] });
  }
  let ackWaiter: (() => void) | undefined;
  const filler = new Uint8Array(PAYLOAD_BYTES - 13).map((_, i) => (i * 31) & 0xff);

  const flushProgress = () => {
    if (phase && phase.delivered !== phase.reported) {
      phase.reported = phase.delivered;
      send({ type: 'progress', phase: phase.phase, n: phase.delivered });
    }
  };
  setInterval(flushProgress, 5).unref();

  side.onDeliver((payload) => {
    const at = wallNow();
    if (!phase || payload.length !== PAYLOAD_BYTES) return;
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    if (payload[12] !== phase.phase) return;
    stamp('app', payload);
    const index = view.getUint32(8);
    if (index >= phase.count) return;
    if (phase.seen[index]) {
      phase.duplicates++;
      return;
    }
    phase.seen[index] = 1;
    phase.lat[index] = at - view.getFloat64(0);
    if (phase.delivered === 0) phase.first = at;
    phase.last = at;
    phase.delivered++;
    if (phase.delivered - phase.reported >= 32 || phase.delivered === phase.count) flushProgress();
  });

  // With several publishers, publisher k of n sends the indices k, k + n, k + 2n, ...
  // and the total rate is shared among them.
  const publishLoop = async (p: Phase, window: number, rate: number, maxMs: number, k: number, n: number) => {
    const start = wallNow();
    let waits = 0;
    let sent = 0;
    for (let j = 0; ; j++) {
      const i = j * n + k;
      if (i >= p.count) break;
      if (maxMs > 0 && wallNow() - start > maxMs) break;
      if (rate > 0) {
        const due = start + (i * 1000) / rate;
        const wait = due - wallNow();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      } else if (j % 32 === 31) {
        // Let I/O in: every publish below resolves without touching the event loop.
        await new Promise((r) => setImmediate(r));
      }
      while (i - acked >= window) {
        waits++;
        await new Promise<void>((r) => (ackWaiter = r));
      }
      const payload = new Uint8Array(PAYLOAD_BYTES);
      const view = new DataView(payload.buffer);
      view.setUint32(8, i);
      payload[12] = p.phase;
      payload.set(filler, 13);
      view.setFloat64(0, wallNow());
      stamp('pub', payload);
      await side.publish(payload);
      stamp('pubDone', payload);
      sent++;
    }
    send({ type: 'published', phase: p.phase, start, end: wallNow(), sent, windowWaits: waits });
  };

  const handle = async (msg: any): Promise<void> => {
    switch (msg.cmd) {
      case 'connect':
        await side.connect(msg.bootstrap, msg.all);
        send({ type: 'connected' });
        break;
      case 'status':
        send({ type: 'status', ...side.status() });
        break;
      case 'phase': {
        acked = 0;
        // NET_PROF=dir: a CPU profile of the light phases only (2 and 3), not of start-up and compilation.
        if (process.env.NET_PROF && msg.phase === 2) await startProfile();
        loopDelay.reset();
        gc = { count: 0, ms: 0, maxMs: 0 };
        stamps.clear();
        stampPhase = { phase: msg.phase, count: msg.count };
        phase = {
          phase: msg.phase,
          count: msg.count,
          delivered: 0,
          first: 0,
          last: 0,
          lat: new Float64Array(msg.count).fill(NaN),
          seen: new Uint8Array(msg.count),
          duplicates: 0,
          counters: counters(),
          cpu: process.cpuUsage(),
          wallStart: wallNow(),
          reported: 0,
        };
        send({ type: 'phase-started', phase: msg.phase });
        if (msg.publisher)
          void publishLoop(phase, msg.window, msg.rate ?? 0, msg.maxMs ?? 0, msg.publisherIndex ?? 0, msg.publishers ?? 1).catch((err) =>
            send({ type: 'error', message: String(err?.stack ?? err) }),
          );
        break;
      }
      case 'acked':
        if (phase && msg.phase === phase.phase) {
          acked = Math.max(acked, msg.n);
          ackWaiter?.();
          ackWaiter = undefined;
        }
        break;
      case 'report': {
        if (!phase) return send({ type: 'report', phase: msg.phase, delivered: 0 });
        if (process.env.NET_PROF && msg.phase === 3) await stopProfile(process.env.NET_PROF);
        const now = counters();
        const diff: Record<string, number> = {};
        for (const [k, v] of Object.entries(now)) diff[k] = v - (phase.counters[k] ?? 0);
        const cpu = process.cpuUsage(phase.cpu);
        const lat: number[] = [];
        for (const v of phase.lat) if (!Number.isNaN(v)) lat.push(Math.round(v * 100) / 100);
        send({
          type: 'report',
          phase: phase.phase,
          delivered: phase.delivered,
          duplicatesToApp: phase.duplicates,
          first: phase.first,
          last: phase.last,
          lat,
          counters: diff,
          cpuMs: (cpu.user + cpu.system) / 1000,
          wallMs: wallNow() - phase.wallStart,
          rssBytes: process.memoryUsage().rss,
          status: side.status(),
          loop: TRACE && {
            p50: loopDelay.percentile(50) / 1e6,
            p99: loopDelay.percentile(99) / 1e6,
            max: loopDelay.max / 1e6,
          },
          gc,
          ...(TRACE
            ? { stamps: Object.fromEntries([...stamps].map(([k, v]) => [k, Array.from(v, (x) => (Number.isNaN(x) ? null : Math.round(x * 1000) / 1000))])) }
            : {}),
        });
        break;
      }
      case 'exit':
        await side.stop().catch(() => {});
        process.exit(0);
    }
  };

  const info = await side.start();
  send({ type: 'ready', ...info });
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    handle(msg).catch((err) => send({ type: 'error', message: String(err?.stack ?? err) }));
  });
  rl.on('close', () => {
    void side.stop().finally(() => process.exit(0));
  });
}
