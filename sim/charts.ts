/**
 * Draws the simulator's pictures from saved results (issue 21), as SVG
 * next to the JSON in sim/results/:
 *
 * - `stable-<model>-size.svg` pair: RMR and the last delivery hop against
 *   network size, single sender beside random senders, from every
 *   `stable-<model>-<N>.json`;
 * - `failure-<model>.svg`: reliability against the fraction of crashed
 *   nodes, from every `failure-<model>-<N>-<F%>.json`.
 *
 * Bars are medians over seeds, whiskers the lowest and highest seed.
 * `npx tsx sim/charts.ts [--model real]`
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { barChart, type Bar, type BarGroup } from '../bench/svg.ts';

type Doc = Record<string, unknown> & { nodes: number; fail?: number; perSeed: Array<Record<string, number | null>>; model?: Record<string, unknown> };

const dir = new URL('./results/', import.meta.url);
const argv = process.argv.slice(2);
const model = argv.includes('--model') ? argv[argv.indexOf('--model') + 1] : 'real';

function load(prefix: string): Doc[] {
  const re = new RegExp(`^${prefix}-[0-9.]+k?(-[0-9]+)?\\.json$`);
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Doc);
}

/** Median, lowest and highest over the seeds of one figure. */
function bar(doc: Doc, key: string): Bar | null {
  const xs = doc.perSeed.map((s) => s[key]).filter((x): x is number => typeof x === 'number');
  if (xs.length === 0) return null;
  const s = xs.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1] };
}

const size = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));

function describe(doc: Doc | undefined): string {
  const m = doc?.model ?? {};
  const loss = typeof m.lossRate === 'number' && m.lossRate > 0 ? `, ${m.lossRate * 100}% loss (${m.lossMode})` : '';
  return `${model} model: jitter ${m.jitterMs ?? 0} ms, ${m.processingMs ?? 0} ms per payload, ${m.failureDetection ?? 'reset'}${loss}`;
}

function write(name: string, svg: string): void {
  writeFileSync(new URL(name, dir), svg);
  console.log(`wrote sim/results/${name}`);
}

const stable = load(`stable-${model}`).sort((a, b) => a.nodes - b.nodes);
if (stable.length > 0) {
  const groups = (single: string, random: string): BarGroup[] =>
    stable.map((d) => ({ label: `${size(d.nodes)} nodes (${d.perSeed.length} seed${d.perSeed.length > 1 ? 's' : ''})`, bars: [bar(d, single), bar(d, random)] }));
  const series = ['one fixed sender', 'a random sender per message'];
  write(
    `stable-${model}-rmr.svg`,
    barChart({
      title: 'Relative message redundancy against network size',
      unit: 'RMR (goal for random senders: <= 0.3)',
      series,
      groups: groups('rmr', 'rmrRandom'),
      note: describe(stable[0]),
    }),
  );
  write(
    `stable-${model}-ldh.svg`,
    barChart({
      title: 'Last delivery hop (max over 100 broadcasts) against network size',
      unit: 'hops (goal: <= 14)',
      series,
      groups: groups('ldhMax', 'ldhMaxRandom'),
      note: describe(stable[0]),
    }),
  );
}

const failure = load(`failure-${model}`).sort((a, b) => a.nodes - b.nodes || (a.fail ?? 0) - (b.fail ?? 0));
if (failure.length > 0) {
  const sizes = [...new Set(failure.map((d) => d.nodes))];
  const fails = [...new Set(failure.map((d) => d.fail ?? 0))].sort((a, b) => a - b);
  const series = sizes.flatMap((n) => [`${size(n)}: first message`, `${size(n)}: messages 10-50`]);
  const groups: BarGroup[] = fails.map((f) => ({
    label: `${Math.round(f * 100)}% crashed`,
    bars: sizes.flatMap((n) => {
      const d = failure.find((x) => x.nodes === n && x.fail === f);
      return d ? [bar(d, 'reliabilityFirst'), bar(d, 'reliabilityAfter')] : [null, null];
    }),
  }));
  write(
    `failure-${model}.svg`,
    barChart({
      title: 'Reliability against the fraction of nodes crashed at once',
      unit: 'fraction of survivors reached',
      series,
      groups,
      note: `${describe(failure[0])}; a random survivor sends every 200 ms`,
    }),
  );
}
