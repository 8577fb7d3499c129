/**
 * `npm run sim -- <scenario> [--nodes N] [--seeds K] [--seed S] [--fail F] [--json FILE]
 *   [--model ideal|real] [--loss P] [--loss-mode retransmit|drop] [--jitter MS] [--processing MS] [--detect reset|keepalive]`
 *
 * Runs a scenario over K seeds (S, S+1, ...), prints one row per seed and
 * the medians, and with --json writes one object whose top-level fields are
 * the medians over seeds (per-seed figures and per-message detail beneath).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { commitOf } from '../bench/harness.ts';
import { median } from './metrics.ts';
import type { SimConfig } from './network.ts';
import { SCENARIOS, type ScenarioResult } from './scenarios/index.ts';

interface Args {
  scenario: string;
  nodes: number;
  seeds: number;
  seed: number;
  fail: number;
  json: string | null;
  timeScale: number;
  /** Skip the stable scenario's burst phase (it costs most of a 1k run's wall time). */
  noBurst: boolean;
  /** The network model (links, node costs, failure detection); see MODELS. */
  model: Partial<SimConfig>;
}

/**
 * `ideal`: fixed latencies, free processing, TCP resets on a crash (the
 * model of the figures before issue 21). `real`: 0-10 ms jitter per
 * message, 1 ms to handle a payload (0.1 ms any other message), silent
 * crashes noticed by the node's keepalive. Loss is set on its own (--loss).
 */
const MODELS: Record<string, Partial<SimConfig>> = {
  ideal: { jitterMs: 0, processingMs: 0, failureDetection: 'reset' },
  real: { jitterMs: 10, processingMs: 1, failureDetection: 'keepalive' },
};

const LOAD_BEFORE = loadavg().map((x) => Math.round(x * 100) / 100);

const USAGE = `usage: walkaway sim <${Object.keys(SCENARIOS).join('|')}> [--nodes N] [--seeds K] [--seed S] [--fail F] [--json FILE] [--time-scale X] [--no-burst] [--plumtree name=value,...]
  [--model ideal|real] [--loss P] [--loss-mode retransmit|drop] [--jitter MS] [--processing MS] [--detect reset|keepalive]
(or, in a checkout: npm run sim -- <scenario> ...)`;

function parseArgs(argv: string[]): Args {
  const args: Args = { scenario: '', nodes: 1000, seeds: 5, seed: 1, fail: 0.5, json: null, timeScale: 1, noBurst: false, model: { ...MODELS.ideal } };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    const num = (v: string, ok: (x: number) => boolean) => {
      const x = Number(v);
      if (!Number.isFinite(x) || !ok(x)) fail(`bad value for ${a}: ${v}`);
      return x;
    };
    if (a === '--nodes') args.nodes = num(value(), (x) => Number.isInteger(x) && x >= 2);
    else if (a === '--seeds') args.seeds = num(value(), (x) => Number.isInteger(x) && x >= 1);
    else if (a === '--seed') args.seed = num(value(), Number.isInteger);
    else if (a === '--fail') args.fail = num(value(), (x) => x >= 0 && x < 1);
    else if (a === '--json') args.json = value();
    else if (a === '--time-scale') args.timeScale = num(value(), (x) => x > 0 && x <= 1);
    else if (a === '--no-burst') args.noBurst = true;
    else if (a === '--plumtree') args.model.plumtree = { ...args.model.plumtree, ...parseSettings(value()) };
    else if (a === '--model') {
      const name = value();
      if (!(name in MODELS)) fail(`unknown model ${JSON.stringify(name)} (ideal or real)`);
      // The named model first: flags given before it still win.
      args.model = { ...MODELS[name], ...pick(args.model, argv.slice(0, i)) };
    } else if (a === '--loss') args.model.lossRate = num(value(), (x) => x >= 0 && x < 1);
    else if (a === '--loss-mode') {
      const m = value();
      if (m !== 'retransmit' && m !== 'drop') fail(`bad value for --loss-mode: ${m}`);
      args.model.lossMode = m;
    } else if (a === '--jitter') args.model.jitterMs = num(value(), (x) => x >= 0);
    else if (a === '--processing') args.model.processingMs = num(value(), (x) => x >= 0);
    else if (a === '--detect') {
      const d = value();
      if (d !== 'reset' && d !== 'keepalive') fail(`bad value for --detect: ${d}`);
      args.model.failureDetection = d;
    } else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (!a.startsWith('-') && args.scenario === '') args.scenario = a;
    else fail(`unknown argument ${a}`);
  }
  if (!(args.scenario in SCENARIOS)) fail(`unknown scenario ${JSON.stringify(args.scenario)}`);
  // Whole nodes cost far more than overlay machines: 200 nodes and one seed unless told otherwise.
  if (args.scenario === 'nodes') {
    if (!argv.includes('--nodes')) args.nodes = 200;
    if (!argv.includes('--seeds')) args.seeds = 1;
  }
  return args;
}

/** The model settings set by flags among `given` (so a later --model keeps them). */
function pick(model: Partial<SimConfig>, given: string[]): Partial<SimConfig> {
  const flags: Record<string, keyof SimConfig> = {
    '--loss': 'lossRate',
    '--loss-mode': 'lossMode',
    '--jitter': 'jitterMs',
    '--processing': 'processingMs',
    '--detect': 'failureDetection',
    '--plumtree': 'plumtree',
  };
  const out: Partial<SimConfig> = {};
  for (const [flag, key] of Object.entries(flags)) if (given.includes(flag)) Object.assign(out, { [key]: model[key] });
  return out;
}

/** `name=value,name=value` (numbers and booleans): PlumTree settings to try without editing the defaults. */
function parseSettings(text: string): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {};
  for (const part of text.split(',')) {
    const [name, raw] = part.split('=');
    if (!name || raw === undefined) fail(`bad --plumtree setting ${JSON.stringify(part)} (name=value)`);
    const value = raw === 'true' ? true : raw === 'false' ? false : Number(raw);
    if (typeof value === 'number' && Number.isNaN(value)) fail(`bad --plumtree value ${JSON.stringify(raw)}`);
    out[name] = value;
  }
  return out;
}

function fail(message: string): never {
  console.error(`walkaway sim: ${message}; see "walkaway sim --help"`);
  process.exit(2);
}

function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(4);
}

function printTable(keys: string[], rows: Array<[string, Record<string, number | null>]>): void {
  const cols = ['seed', ...keys];
  const cells = rows.map(([label, f]) => [label, ...keys.map((k) => fmt(f[k]))]);
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(line(cols));
  for (const r of cells) console.log(line(r));
}

/** Goals of issue 21 for the stable scenario's headline figures. */
const GOALS: Record<string, string> = { rmrRandom: '<= 0.3', ldhMaxRandom: '<= 14', reliabilityRandom: '1', reliability: '1' };

/** Single- and random-sender figures side by side (stable scenario), median and worst seed. */
function printHeadline(medians: Record<string, number | null>, worst: Record<string, number | null>): void {
  if (!('rmrRandom' in medians)) return;
  const cell = (key: string) => `${fmt(medians[key])} (worst ${fmt(worst[key])})${GOALS[key] ? `, goal ${GOALS[key]}` : ''}`;
  console.log('headline, median over seeds:');
  for (const [label, single, random] of [
    ['reliability', 'reliability', 'reliabilityRandom'],
    ['RMR', 'rmr', 'rmrRandom'],
    ['last delivery hop, max', 'ldhMax', 'ldhMaxRandom'],
    ['p99 latency ms', 'p99LatencyMs', 'p99LatencyRandomMs'],
  ]) {
    console.log(`  ${label.padEnd(24)} single sender ${cell(single).padEnd(30)} random sender ${cell(random)}`);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const run = SCENARIOS[args.scenario];
  const perSeed: Array<{ seed: number; result: ScenarioResult }> = [];
  console.log(`${args.scenario}: ${args.nodes} nodes, ${args.seeds} seed(s) from ${args.seed}` + (args.scenario === 'failure' ? `, fail ${args.fail}` : ''));
  for (let k = 0; k < args.seeds; k++) {
    const seed = args.seed + k;
    const result = await run({ nodes: args.nodes, seed, fail: args.fail, timeScale: args.timeScale, noBurst: args.noBurst, sim: args.model });
    perSeed.push({ seed, result });
    console.error(`  seed ${seed} done in ${result.figures.wallMs} ms`);
  }
  const keys = Object.keys(perSeed[0].result.figures);
  const medians: Record<string, number | null> = {};
  const worst: Record<string, number | null> = {};
  for (const key of keys) {
    const xs = perSeed.map((p) => p.result.figures[key]).filter((x): x is number => x !== null);
    medians[key] = xs.length === perSeed.length ? median(xs) : xs.length === 0 ? null : median(xs);
    // Worst: lowest for reliabilities, highest for costs and times.
    const lowIsBad = key.startsWith('reliability') || key === 'fullyDelivered';
    const missing = xs.length < perSeed.length && key === 'healMs';
    worst[key] = missing ? null : xs.length === 0 ? null : lowIsBad ? Math.min(...xs) : Math.max(...xs);
  }
  printTable(keys, [...perSeed.map((p): [string, Record<string, number | null>] => [String(p.seed), p.result.figures]), ['median', medians], ['worst', worst]]);
  printHeadline(medians, worst);
  if (args.json) {
    const doc = {
      scenario: args.scenario,
      nodes: args.nodes,
      seeds: perSeed.map((p) => p.seed),
      ...(args.scenario === 'failure' ? { fail: args.fail } : {}),
      ...(args.timeScale !== 1 ? { timeScale: args.timeScale } : {}),
      model: { ...MODELS.ideal, lossRate: 0, lossMode: 'retransmit', ...args.model },
      ...medians,
      // Beside the medians: e.g. `converged: true` when every seed converged (else the value per seed).
      ...Object.fromEntries(
        Object.keys(perSeed[0].result.summary ?? {}).map((key) => [
          key,
          perSeed.every((p) => p.result.summary?.[key] === perSeed[0].result.summary?.[key])
            ? perSeed[0].result.summary?.[key]
            : perSeed.map((p) => p.result.summary?.[key]),
        ]),
      ),
      worst,
      perSeed: perSeed.map((p) => ({ seed: p.seed, ...p.result.figures, messages: p.result.messages, timeline: p.result.timeline })),
      command: `npm run sim -- ${process.argv.slice(2).join(' ')}`,
      node: process.version,
      // Virtual time makes the figures independent of load; wall times are not.
      machine: { commit: commitOf(), cpus: cpus().length, loadBefore: LOAD_BEFORE, loadAfter: loadavg().map((x) => Math.round(x * 100) / 100) },
      measuredAt: new Date().toISOString(),
    };
    mkdirSync(dirname(args.json), { recursive: true });
    writeFileSync(args.json, JSON.stringify(doc, null, 1) + '\n');
    console.log(`wrote ${args.json}`);
  }
}

await main();
