/**
 * The shared harness of the comparative benchmarks (issue 21): every side
 * runs in the same process tree, interleaved (repetition r starts with side
 * r mod k, so no side always runs first or last on a machine whose load
 * drifts), at least three repetitions, each figure reported as median with
 * min/max and spread, the machine's 1-minute load before and after every
 * sample and around the whole run.
 *
 * CPU is measured for every side the same way: a child process reports its
 * own `process.cpuUsage()` (all threads: worker pools included), or the
 * parent reads the child's rusage from /proc/<pid>/stat when the child is a
 * server that does not report.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

export type Sample = Record<string, number | null>;

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median, as a fraction. */
  spread: number;
  n: number;
}

export interface SideResult {
  samples: Sample[];
  /** Every numeric key of the samples, summarised. */
  stats: Record<string, Spread>;
}

export interface Interleaved {
  reps: number;
  order: string[][];
  sides: Record<string, SideResult>;
  load: LoadRecord;
}

export interface LoadRecord {
  cores: number;
  cpuModel?: string;
  totalMemBytes: number;
  before: number[];
  after: number[];
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function spreadOf(values: number[]): Spread {
  const clean = values.filter((v) => Number.isFinite(v));
  const m = median(clean);
  const min = Math.min(...clean);
  const max = Math.max(...clean);
  return { median: round(m), min: round(min), max: round(max), spread: round(m ? (max - min) / Math.abs(m) : 0, 3), n: clean.length };
}

export function summarise(samples: Sample[]): Record<string, Spread> {
  const keys = new Set(samples.flatMap((s) => Object.keys(s)));
  const out: Record<string, Spread> = {};
  for (const k of keys) {
    const values = samples.map((s) => s[k]).filter((v): v is number => typeof v === 'number');
    if (values.length > 0) out[k] = spreadOf(values);
  }
  return out;
}

/** HEAD of the checkout in `cwd`, `+dirty` if tracked files outside the results folders differ from it; 'unknown' outside git. */
export function commitOf(cwd?: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    // Saved results are not the code measured: a batch of runs rewrites them.
    const args = ['status', '--porcelain', '--untracked-files=no', '--', ':(top)', ':(top,exclude)bench/results', ':(top,exclude)sim/results'];
    const dirty = execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

export const loadNow = (): number => round(loadavg()[0], 2);

export function machineLoad(): () => LoadRecord {
  const before = loadavg().map((x) => round(x, 2));
  return () => ({
    cores: cpus().length,
    cpuModel: cpus()[0]?.model,
    totalMemBytes: totalmem(),
    before,
    after: loadavg().map((x) => round(x, 2)),
  });
}

/**
 * Runs every side `reps` times, interleaved and rotated. Each sample gets
 * `loadBefore`/`loadAfter` added. A side that throws records the error and
 * the run goes on (a losing or failing side is a figure too).
 */
export async function interleave(
  sides: Record<string, (rep: number) => Promise<Sample>>,
  reps: number,
  log: (line: string) => void = (l) => process.stderr.write(l + '\n'),
): Promise<Interleaved> {
  const names = Object.keys(sides);
  const end = machineLoad();
  const samples: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]));
  const errors: Record<string, string[]> = {};
  const order: string[][] = [];
  for (let r = 0; r < reps; r++) {
    const turn = names.map((_, i) => names[(i + r) % names.length]);
    order.push(turn);
    for (const name of turn) {
      const loadBefore = loadNow();
      const t0 = performance.now();
      try {
        const s = await sides[name](r);
        samples[name].push({ ...s, loadBefore, loadAfter: loadNow() });
        log(`rep ${r + 1}/${reps} ${name}: ${brief(s)} (load ${loadBefore} -> ${loadNow()}, ${Math.round(performance.now() - t0)} ms)`);
      } catch (err) {
        (errors[name] ??= []).push(String((err as Error)?.message ?? err));
        log(`rep ${r + 1}/${reps} ${name}: FAILED ${(err as Error)?.message}`);
      }
    }
  }
  const result: Record<string, SideResult> = {};
  for (const n of names) result[n] = { samples: samples[n], stats: summarise(samples[n]), ...(errors[n] ? { errors: errors[n] } : {}) };
  return { reps, order, sides: result, load: end() };
}

function brief(s: Sample): string {
  return Object.entries(s)
    .slice(0, 5)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? round(v) : v}`)
    .join(' ');
}

/** CPU seconds (user + system, all threads, children waited for) of a live process, from /proc. */
export function procCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11..14] are utime, stime, cutime, cstime in clock ticks (100 Hz on Linux).
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return null;
  }
}

/** Peak resident set (VmHWM) of a live process, in bytes. */
export function procPeakRss(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU seconds of this process (all threads) since `from`. */
export function cpuSecondsSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

/** Medians only, for tables and ratios. */
export function medians(side: SideResult | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (side) for (const [k, v] of Object.entries(side.stats)) out[k] = v.median;
  return out;
}

export function ratio(a: number | undefined, b: number | undefined, digits = 3): number | null {
  return a != null && b != null && Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? round(a / b, digits) : null;
}

export function round(x: number, digits = 4): number {
  if (!Number.isFinite(x)) return x;
  if (Math.abs(x) >= 100) return Math.round(x * 10) / 10;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function flag(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}
