/**
 * `npm run bench -- faults`: what hostile input costs a node (issue 15).
 *
 * 1. Decoders: a pass of the fuzz harness (`npm run fuzz`) over every
 *    decoder of remote or user input: inputs tried, untyped errors, worst
 *    decode µs per KiB (`--fuzz-inputs N` per decoder; `--fuzz-json PATH`
 *    reads a full run's table instead).
 * 2. Flood: a victim node (SQLite) and an honest author writing `--rate`
 *    messages a second, first alone (`--quiet-s`), then while an attacker
 *    floods the victim with 100 address frames, 6,000 junk gossip frames of
 *    15 KB and 30,000 forged operations (joining again under a new identity
 *    whenever it is cut off), then for `--recover-s` after the flood.
 *    Reported: the victim's RSS before, at its peak and after; how long it
 *    took to fall back within 16 MB of the baseline; the honest author's
 *    delivery p50/p99 without and with the attacker, and how many of its
 *    messages arrived.
 *
 * Goals (issue 15): RSS growth under the flood at most 64 MB, back within
 * 16 MB of the baseline within 60 s of the flood's end, the honest author's
 * messages arriving throughout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const MB = 1024 * 1024;

interface Options {
  rate: number;
  quietS: number;
  recoverS: number;
  fuzzInputs: number;
  fuzzJson?: string;
  skipFuzz: boolean;
}

function parse(args: string[]): Options {
  const o: Options = { rate: 50, quietS: 20, recoverS: 60, fuzzInputs: 20_000, skipFuzz: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const num = () => {
      const v = Number(args[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a} needs a number`);
      return v;
    };
    if (a === '--rate') o.rate = num();
    else if (a === '--quiet-s') o.quietS = num();
    else if (a === '--recover-s') o.recoverS = num();
    else if (a === '--fuzz-inputs') o.fuzzInputs = num();
    else if (a === '--fuzz-json') o.fuzzJson = args[++i];
    else if (a === '--no-fuzz') o.skipFuzz = true;
    else throw new Error(`unknown flag ${a}`);
  }
  return o;
}

interface Peer {
  child: ChildProcess;
  on(type: string, fn: (line: Record<string, unknown>) => void): void;
  next(type: string): Promise<Record<string, unknown>>;
}

function start(role: string, args: string[]): Peer {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'faults-peer.ts'), role, ...args], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const handlers = new Map<string, ((line: Record<string, unknown>) => void)[]>();
  const waiting = new Map<string, ((line: Record<string, unknown>) => void)[]>();
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text);
    } catch {
      return;
    }
    const type = String(line.type);
    for (const fn of handlers.get(type) ?? []) fn(line);
    const w = waiting.get(type);
    if (w?.length) w.shift()!(line);
    if (type === 'fatal') console.error(`${role}: ${line.message}`);
  });
  return {
    child,
    on: (type, fn) => handlers.set(type, [...(handlers.get(type) ?? []), fn]),
    next: (type) =>
      new Promise((resolve, reject) => {
        waiting.set(type, [...(waiting.get(type) ?? []), resolve]);
        child.once('exit', (code) => reject(new Error(`${role} exited (${code}) before "${type}"`)));
      }),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

async function decoders(o: Options): Promise<Record<string, unknown>> {
  if (o.skipFuzz) return { skipped: true };
  let file = o.fuzzJson;
  if (!file) {
    if (!existsSync(join(root, 'fuzz', 'run.ts'))) return { skipped: 'fuzz/run.ts is missing' };
    file = join(mkdtempSync(join(tmpdir(), 'walkaway-faults-')), 'fuzz.json');
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'fuzz', 'run.ts'), '--inputs', String(o.fuzzInputs), '--json', file], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await new Promise((resolve) => child.once('exit', resolve));
  }
  if (!existsSync(file)) return { skipped: 'the fuzz run wrote no table' };
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

async function flood(o: Options): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'walkaway-faults-'));
  const topic = 'faults-bench';
  const victim = start('victim', [join(dir, 'victim'), topic]);
  const ready = await victim.next('ready');
  const address = (ready.addresses as string[]).find((a) => a.includes('127.0.0.1'))!;
  const memory: { at: number; rss: number; heapUsed: number }[] = [];
  victim.on('memory', (m) => memory.push({ at: m.at as number, rss: m.rss as number, heapUsed: m.heapUsed as number }));
  const delays: { at: number; i: number; delayMs: number }[] = [];
  victim.on('deliver', (d) => delays.push({ at: performance.timeOrigin + performance.now(), i: d.i as number, delayMs: d.delayMs as number }));

  const author = start('author', [topic, address, String(o.rate)]);
  await author.next('ready');
  let sent = 0;
  author.on('sent', () => sent++);
  author.child.stdin!.write('start\n');
  const clock = () => performance.timeOrigin + performance.now();

  const quietStart = clock();
  await sleep(o.quietS * 1000);
  const quietEnd = clock();
  const sentBeforeFlood = sent;
  const baselineRss = median(memory.filter((m) => m.at >= quietEnd - 5000).map((m) => m.rss));

  const attacker = start('attacker', [topic, address]);
  await attacker.next('ready');
  const floodStart = clock();
  const done = await attacker.next('done');
  const floodEnd = clock();
  const sentDuringFlood = sent - sentBeforeFlood;

  // After the flood: until the RSS is back (or the window ends).
  let recoveredAt: number | undefined;
  while (clock() - floodEnd < o.recoverS * 1000) {
    await sleep(250);
    const last = memory[memory.length - 1];
    if (recoveredAt === undefined && last && last.at > floodEnd && last.rss <= baselineRss + 16 * MB) recoveredAt = last.at;
  }
  victim.child.stdin!.write('stats\n');
  const stats = await Promise.race([victim.next('stats'), sleep(3000).then(() => ({ stats: 'no answer' }))]);
  const end = clock();
  author.child.stdin!.end();
  victim.child.stdin!.end();
  await sleep(500);
  for (const p of [author, victim, attacker]) p.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });

  const window = (from: number, to: number) =>
    delays
      .filter((d) => d.at >= from && d.at < to)
      .map((d) => d.delayMs)
      .sort((a, b) => a - b);
  const quiet = window(quietStart + 2000, quietEnd);
  const attacked = window(floodStart, floodEnd + 1000);
  const peak = memory.filter((m) => m.at >= floodStart && m.at <= floodEnd + 5000).reduce((a, m) => Math.max(a, m.rss), 0);
  const lastRss = memory[memory.length - 1]?.rss ?? NaN;
  const delivered = new Set(delays.map((d) => d.i));
  let missing = 0;
  for (let i = 0; i < sent - o.rate; i++) if (!delivered.has(i)) missing++; // the last second may still be in flight
  return {
    flood: { ...done, floodMs: Math.round(floodEnd - floodStart) },
    rss: {
      baselineMB: +(baselineRss / MB).toFixed(1),
      peakMB: +(peak / MB).toFixed(1),
      growthMB: +((peak - baselineRss) / MB).toFixed(1),
      afterMB: +(lastRss / MB).toFixed(1),
      recoveredWithin16MBAfterS: recoveredAt === undefined ? null : +((recoveredAt - floodEnd) / 1000).toFixed(1),
      windowS: o.recoverS,
    },
    honest: {
      ratePerSec: o.rate,
      sent,
      sentDuringFlood,
      missing,
      quiet: { count: quiet.length, p50Ms: +percentile(quiet, 50).toFixed(1), p99Ms: +percentile(quiet, 99).toFixed(1) },
      underAttack: { count: attacked.length, p50Ms: +percentile(attacked, 50).toFixed(1), p99Ms: +percentile(attacked, 99).toFixed(1) },
    },
    goals: {
      growthAtMost64MB: peak - baselineRss <= 64 * MB,
      recoveredWithin60s: recoveredAt !== undefined && recoveredAt - floodEnd <= 60_000,
      honestKeptArriving: attacked.length > 0 && missing === 0,
    },
    victimStats: (stats as { stats: unknown }).stats,
    wallS: +((end - quietStart) / 1000).toFixed(1),
  };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const o = parse(args);
  const flooded = await flood(o);
  const decoded = await decoders(o);
  return { decoders: decoded, ...flooded };
}
