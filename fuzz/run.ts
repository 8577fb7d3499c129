/**
 * `npm run fuzz`: random and mutation fuzzing of every decoder of remote or
 * user input (fuzz/README.md). Targets run in worker threads, two at a time
 * by default (a 2-core machine). Exits nonzero on any untyped error, any
 * input over the decode cost bound, or a target that did not run its inputs.
 */
import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { DECODE_BUDGET_US_PER_KIB, toHex, type FuzzOptions, type TargetReport } from './engine.ts';
import { Rng } from './prng.ts';
import { targetByName, TARGET_NAMES } from './targets/index.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CORPUS_DIR = join(HERE, 'corpus');
const CRASH_DIR = join(HERE, 'crashes');
/** The slowest targets start first, so the two threads end close together. */
const SLOW_FIRST = ['web', 'payload', 'operation', 'ephemeral', 'broadcast-sync', 'multicast', 'sync-frames', 'args'];

const USAGE = `usage: npm run fuzz -- [options]
  --target NAME    only this target (repeatable; names: ${TARGET_NAMES.join(', ')})
  --inputs N       inputs per target (default 1000000; web is capped at 20000)
  --seconds S      stop each target after S seconds
  --seed S         PRNG seed (default "walkaway"): the same seed gives the same inputs
  --jobs N         targets fuzzed at once, in worker threads (default 2)
  --json PATH      write the table as JSON
  --write-corpus   rewrite fuzz/corpus/<target>.hex from the seeds (keeps its "# regressions")
  --list           list the targets`;

function table(reports: TargetReport[]): string {
  const rows = [['target', 'inputs', 'accepted', 'untyped', 'worst µs/KiB', 'bound', 'over bound', 'seconds']];
  for (const r of reports) {
    rows.push([
      r.target,
      String(r.inputs),
      String(r.accepted),
      String(r.untypedErrors),
      r.worstUsPerKiB.toFixed(1),
      String(r.budgetUsPerKiB),
      String(r.overBound),
      r.seconds.toFixed(1),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')).join('\n');
}

function runInWorker(name: string, options: FuzzOptions): Promise<TargetReport> {
  return new Promise((resolve, reject) => {
    // The main thread's stack (about 1 MB), not a worker's 4 MB: a stack overflow happens where it would in a node.
    const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: { name, options }, resourceLimits: { stackSizeMb: 1 } });
    let report: TargetReport | undefined;
    worker.on('message', (r: TargetReport) => (report = r));
    worker.on('error', reject);
    worker.on('exit', (code) => (report ? resolve(report) : reject(new Error(`worker of ${name} exited with code ${code} and no report`))));
  });
}

async function writeCorpus(names: string[]): Promise<void> {
  mkdirSync(CORPUS_DIR, { recursive: true });
  for (const name of names) {
    const target = (await targetByName(name))!;
    const file = join(CORPUS_DIR, `${name}.hex`);
    const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const regressions = old.includes('# regressions') ? old.slice(old.indexOf('# regressions')) : '# regressions: inputs that once failed (hex, one per line)\n';
    const seeds = (await target.seeds(new Rng(`seeds/${name}`))).map(toHex);
    writeFileSync(file, `# ${target.about}\n# seeds: valid inputs made by the encoders of src/ (npm run fuzz -- --write-corpus)\n${seeds.join('\n')}\n${regressions}`);
    await target.close?.();
    console.log(`${file}: ${seeds.length} seeds`);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string', multiple: true },
      inputs: { type: 'string' },
      seconds: { type: 'string' },
      seed: { type: 'string' },
      jobs: { type: 'string' },
      json: { type: 'string' },
      'write-corpus': { type: 'boolean' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || values.list) {
    console.log(values.help ? USAGE : TARGET_NAMES.join('\n'));
    return 0;
  }
  const names = values.target?.flatMap((t) => t.split(',')) ?? TARGET_NAMES;
  const unknown = names.filter((n) => !TARGET_NAMES.includes(n));
  if (unknown.length) {
    console.error(`unknown target ${unknown.join(', ')}\n\n${USAGE}`);
    return 2;
  }
  if (values['write-corpus']) {
    await writeCorpus(names);
    return 0;
  }
  const options: FuzzOptions = {
    seed: values.seed ?? 'walkaway',
    inputs: Number(values.inputs ?? 1_000_000),
    seconds: values.seconds === undefined ? undefined : Number(values.seconds),
    crashDir: CRASH_DIR,
    corpusDir: CORPUS_DIR,
  };
  const jobs = Math.max(1, Number(values.jobs ?? 2));
  const queue = [...SLOW_FIRST.filter((n) => names.includes(n)), ...names.filter((n) => !SLOW_FIRST.includes(n))];
  console.log(`fuzz: ${names.length} targets, ${options.inputs} inputs each, seed "${options.seed}", ${jobs} threads, bound ${DECODE_BUDGET_US_PER_KIB} µs/KiB`);
  const started = Date.now();
  const reports: TargetReport[] = [];
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      for (let name = queue.shift(); name; name = queue.shift()) {
        try {
          const r = await runInWorker(name, options);
          reports.push(r);
          console.log(
            `  ${r.target}: ${r.inputs} inputs, ${r.untypedErrors} untyped, worst ${r.worstUsPerKiB.toFixed(1)} µs/KiB, ${r.overBound} over, ${r.seconds.toFixed(1)} s`,
          );
        } catch (err) {
          failures.push(`${name}: ${(err as Error).message}`);
          console.error(`  ${name}: FAILED ${(err as Error).stack}`);
        }
      }
    }),
  );
  const wall = (Date.now() - started) / 1000;
  reports.sort((a, b) => names.indexOf(a.target) - names.indexOf(b.target));
  console.log(`\n${table(reports)}\n\nwall time ${wall.toFixed(1)} s`);
  for (const r of reports) {
    for (const f of r.findings)
      console.log(
        `\n${r.target}: ${f.error}\n  minimized input (${f.minimizedHex.length / 2} bytes): ${f.minimizedHex.slice(0, 400)}${f.minimizedHex.length > 400 ? '…' : ''}${f.file ? `\n  saved: ${f.file}` : ''}`,
      );
    if (r.overBound) console.log(`\n${r.target}: ${r.overBound} inputs over ${r.budgetUsPerKiB} µs/KiB; first: ${r.overBoundInputs[0]?.hex.slice(0, 200)}`);
  }
  for (const r of reports) {
    if (options.seconds === undefined && r.inputs < Math.min(options.inputs, r.target === 'web' ? 20_000 : Infinity)) failures.push(`${r.target} ran ${r.inputs} inputs`);
  }
  if (values.json) {
    mkdirSync(dirname(values.json), { recursive: true });
    writeFileSync(
      values.json,
      JSON.stringify(
        { seed: options.seed, inputsPerTarget: options.inputs, budgetUsPerKiB: DECODE_BUDGET_US_PER_KIB, wallSeconds: wall, failures, targets: reports },
        null,
        2,
      ) + '\n',
    );
  }
  const bad = failures.length + reports.reduce((n, r) => n + r.untypedErrors + r.overBound, 0);
  if (failures.length) console.log(`\nfailures:\n  ${failures.join('\n  ')}`);
  return bad > 0 ? 1 : 0;
}

process.exitCode = await main();
