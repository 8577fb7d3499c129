/**
 * Benchmark `memory` (issue 21): RSS and V8 heap of one idle process per
 * side at stages (bench/memory-child.mjs, plain node, Walkaway from the
 * built dist/: run `npm run build` first): runtime only, modules loaded,
 * started, one topic joined, after 10k and N items published and stored,
 * after T topics. Sides: a Walkaway node (SQLite, libp2p host), a libp2p
 * host with GossipSub (no store: GossipSub keeps nothing), a Hypercore 11
 * core. Interleaved repetitions, medians with spread. Goal: an idle Walkaway
 * node (after joining) under 80 MB RSS. `--idle S` adds a stage: left alone
 * for S seconds after joining, measured without forcing a GC. `--base DIR`:
 * another checkout with its own built `dist/` (`git archive <commit> | tar
 * -x -C DIR`, `node_modules` linked, `npm run build` there) runs as side
 * `walkaway@base`, interleaved with this tree's: a before/after on one load.
 *
 *   npm run bench -- memory [--ops 100000] [--topics 10] [--idle SECONDS] [--sides a,b] [--reps 3] [--base DIR] [--save]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { flag, interleave, medians, round, type Sample } from './harness.ts';
import { barChart, barsOf } from './svg.ts';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const SIDES = ['walkaway', 'gossipsub', 'hypercore'];
const MB = 2 ** 20;

async function sample(side: string, ops: number, topics: number, idleSeconds: number, dist = here('../dist')): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), `walkaway-bench-memory-${side}-`));
  try {
    const proc = spawn(process.execPath, ['--expose-gc', here('./memory-child.mjs'), side, dir, String(ops), String(topics), String(idleSeconds), dist], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const out: Sample = {};
    for await (const line of createInterface({ input: proc.stdout! })) {
      let m: Record<string, any>;
      try {
        m = JSON.parse(line);
      } catch {
        continue;
      }
      if (m.type === 'done') break;
      if (m.type !== 'stage') continue;
      const key = String(m.stage)
        .replace(/-(\d+)$/, (_: string, n: string) => (Number(n) === ops ? '-N' : `-${n}`))
        .replace(/-(\w)/g, (_: string, c: string) => c.toUpperCase());
      out[`${key}RssMB`] = round(m.rss / MB, 1);
      out[`${key}HeapMB`] = round(m.heapUsed / MB, 1);
      out[`${key}ExternalMB`] = round(m.external / MB, 1);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const ops = Number(flag(args, 'ops', '100000'));
  const topics = Number(flag(args, 'topics', '10'));
  const reps = Number(flag(args, 'reps', '3'));
  const baseDir = flag(args, 'base', '');
  const sides = [...flag(args, 'sides', SIDES.join(',')).split(','), ...(baseDir ? ['walkaway@base'] : [])];
  const idleSeconds = Number(flag(args, 'idle', '0'));
  if (!existsSync(here('../dist/node/index.js'))) throw new Error('memory: build first (npm run build): the child loads Walkaway from dist/');
  const baseDist = baseDir ? resolve(baseDir, 'dist') : '';
  if (baseDir && !existsSync(join(baseDist, 'node/index.js'))) throw new Error(`memory: build the base first (npm run build in ${baseDir})`);
  const run1 = (s: string) => (s === 'walkaway@base' ? sample('walkaway', ops, topics, idleSeconds, baseDist) : sample(s, ops, topics, idleSeconds));
  const result = await interleave(Object.fromEntries(sides.map((s) => [s, () => run1(s)])), reps);
  const m = (s: string) => medians(result.sides[s]);
  const w = m('walkaway');
  const stages = ['bare', 'loaded', 'started', 'joined', ...(idleSeconds > 0 ? ['idle'] : []), 'ops10k', 'opsN', `topics${topics}`];
  const summary = {
    ops,
    topics,
    reps,
    idleSeconds,
    goals: {
      'idle Walkaway node after joining, RSS MB (< 80)': w.joinedRssMB ?? null,
      ...(idleSeconds > 0 ? { [`the same, left idle ${idleSeconds} s, no forced GC, RSS MB (< 80)`]: w.idleRssMB ?? null } : {}),
    },
    rssMB: Object.fromEntries(sides.map((s) => [s, Object.fromEntries(stages.map((st) => [st, m(s)[`${st}RssMB`] ?? null]))])),
    heapMB: Object.fromEntries(sides.map((s) => [s, Object.fromEntries(stages.map((st) => [st, m(s)[`${st}HeapMB`] ?? null]))])),
    load: result.load,
  };
  const note = `${reps} interleaved reps, median with min-max; load ${result.load.before[0]} -> ${result.load.after[0]} on ${result.load.cores} cores`;
  const chart = barChart({
    title: 'memory: RSS of one process by stage',
    unit: 'MB',
    series: sides,
    groups: stages.map((st) => ({ label: st, bars: barsOf(result.sides, sides, `${st}RssMB`) })),
    note,
  });
  return { summary, charts: { rss: chart }, ...result };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { printTable } = await import('./table.ts');
  printTable((await run(process.argv.slice(2))).summary as Record<string, unknown>);
}
