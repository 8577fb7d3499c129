/**
 * Draws sync time against the number of operations (issue 21's picture)
 * from the saved sync results, one per size (`sync.json`: 100k,
 * `sync-1m.json`: 1M), as time per operation so both sizes share a scale.
 * Each file is its own run (sides interleaved within it); the bars are its
 * medians, the whiskers its fastest and slowest repetitions.
 *
 *   npx tsx bench/sync-scale.ts   (writes bench/results/sync-scale.svg)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { barChart, type Bar, type BarGroup } from './svg.ts';

type Stats = Record<string, { median: number; min: number; max: number }>;
type SyncResult = { summary: { ops: number }; reps: number; sides: Record<string, { stats: Stats }>; machine: { commit: string } };

const SIDES = ['walkaway-all', 'walkaway-tips', 'hypercore-default', 'hypercore-bulk'];
const dir = new URL('./results/', import.meta.url);

export function syncScaleChart(results: SyncResult[]): string {
  const sorted = [...results].sort((a, b) => a.summary.ops - b.summary.ops);
  const groups: BarGroup[] = sorted.map((r) => ({
    label: `${r.summary.ops.toLocaleString('en-US')} ops (${r.reps} reps, ${r.machine.commit.slice(0, 7)})`,
    bars: SIDES.map((side): Bar | null => {
      const s = r.sides[side]?.stats.ms;
      if (!s) return null;
      // ms for the whole sync -> µs per operation.
      const perOp = (ms: number) => (ms * 1000) / r.summary.ops;
      return { median: perOp(s.median), min: perOp(s.min), max: perOp(s.max) };
    }),
  }));
  return barChart({
    title: 'sync: time per operation against operations',
    unit: 'µs per op (wall)',
    series: SIDES,
    groups,
    note: 'each size its own run, sides interleaved; median with min-max; 2 cores shared by both processes',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = ['sync.json', 'sync-1m.json'].map((f) => new URL(f, dir)).filter((u) => existsSync(u));
  const results = files.map((u) => JSON.parse(readFileSync(u, 'utf8')) as SyncResult);
  const out = new URL('sync-scale.svg', dir);
  writeFileSync(out, syncScaleChart(results));
  console.log(`wrote bench/results/sync-scale.svg from ${files.length} results`);
}
