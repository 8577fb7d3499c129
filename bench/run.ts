/**
 * `npm run bench -- <name> [args] [--save] [--out PATH]`: runs
 * bench/<name>.ts and prints its figures as a table. Only `--save` writes
 * bench/results/<name>.json (the committed figures); `--out PATH` writes
 * elsewhere. Every written result carries the commit and the machine's load
 * before and after. Without a name, runs every benchmark in turn.
 * Benchmarks export `run(args)`.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { commitOf } from './harness.ts';
import { printTable } from './table.ts';

const here = dirname(fileURLToPath(import.meta.url));
// Shared modules, not benchmarks: they export no `run`.
const NOT_BENCHMARKS = new Set(['run', 'table', 'harness', 'svg']);

function available(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.ts') && !f.includes('-'))
    .map((f) => f.slice(0, -3))
    .filter((name) => !NOT_BENCHMARKS.has(name))
    .sort();
}

/** Takes `--save` and `--out PATH` out of a benchmark's arguments. */
function outputOf(name: string, args: string[]): { path?: string; rest: string[] } {
  const rest: string[] = [];
  let path: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--save') path = join(here, 'results', `${name}.json`);
    else if (args[i] === '--out') path = args[++i];
    else rest.push(args[i]);
  }
  return { path, rest };
}

async function runOne(name: string, allArgs: string[]): Promise<void> {
  const file = join(here, `${name}.ts`);
  if (!/^[a-z0-9]+$/.test(name) || NOT_BENCHMARKS.has(name) || !existsSync(file)) {
    console.error(`unknown benchmark ${JSON.stringify(name)}; available: ${available().join(', ')}`);
    process.exit(2);
  }
  const mod = (await import(pathToFileURL(file).href)) as { run: (args: string[]) => Promise<Record<string, unknown>> };
  const { path: out, rest: args } = outputOf(name, allArgs);
  console.log(`# ${name}`);
  const loadBefore = loadavg();
  const result = await mod.run(args);
  const machine = { commit: commitOf(here), cpus: cpus().length, cpuModel: cpus()[0]?.model, loadBefore, loadAfter: loadavg() };
  // Benchmarks with samples print their `summary`; the file keeps everything.
  printTable((result.summary as Record<string, unknown> | undefined) ?? result);
  console.log(`commit ${machine.commit}, load ${loadBefore[0].toFixed(2)} -> ${machine.loadAfter[0].toFixed(2)}`);
  if (!out) return;
  mkdirSync(dirname(out), { recursive: true });
  // SVG charts go next to the JSON: <name>-<chart>.svg.
  const { charts, ...figures } = result as { charts?: Record<string, string> };
  for (const [chart, svg] of Object.entries(charts ?? {})) {
    const file = out.replace(/\.json$/, '') + `-${chart}.svg`;
    writeFileSync(file, svg);
    console.log(`wrote ${file}`);
  }
  writeFileSync(out, JSON.stringify({ ...figures, machine, measuredAt: new Date().toISOString() }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

const argv = process.argv.slice(2);
const named = argv.length > 0 && !argv[0].startsWith('--');
const name = named ? argv[0] : undefined;
const args = named ? argv.slice(1) : argv;
if (argv[0] === '--help' || argv[0] === '-h') {
  console.log(
    `usage: walkaway bench [<name>] [args] [--save | --out PATH]  (in a checkout: npm run bench -- ...)\nwithout a name, runs every benchmark; available: ${available().join(', ')}`,
  );
} else if (name) {
  await runOne(name, args);
} else {
  for (const each of available()) await runOne(each, args);
}
