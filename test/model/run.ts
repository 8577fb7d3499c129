/**
 * `npm run model -- <name> [--seeds N] [--from S]`: runs a seeded model test
 * (test/<name>/model.ts, exporting `runModel(seed)`) over many seeds and
 * prints a summary; exits 1 on the first failing seed, printing it so that
 * `--from S --seeds 1` reproduces it. The normal suite runs a short slice.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface Outcome {
  seed: number;
  ok: boolean;
  operations: number;
  detail?: string;
  [more: string]: unknown;
}

const here = dirname(fileURLToPath(import.meta.url));
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { seeds: { type: 'string', default: '1000' }, from: { type: 'string', default: '0' } },
});
const name = positionals[0];
const file = name && /^[a-z0-9-]+$/.test(name) ? join(here, '..', name, 'model.ts') : '';
if (!file || !existsSync(file)) {
  console.error(`usage: npm run model -- <name> [--seeds N] [--from S]; no model test ${JSON.stringify(name ?? '')}`);
  process.exit(2);
}
const { runModel } = (await import(pathToFileURL(file).href)) as { runModel: (seed: number) => Outcome | Promise<Outcome> };
const seeds = Number(values.seeds);
const from = Number(values.from);
const started = process.hrtime.bigint();
const cpu = process.cpuUsage();
const totals: Record<string, number> = {};
for (let seed = from; seed < from + seeds; seed++) {
  const outcome = await runModel(seed);
  if (!outcome.ok) {
    console.error(`seed ${seed} failed (reproduce: npm run model -- ${name} --from ${seed} --seeds 1)\n${outcome.detail}`);
    process.exit(1);
  }
  for (const [k, v] of Object.entries(outcome)) if (typeof v === 'number' && k !== 'seed') totals[k] = (totals[k] ?? 0) + v;
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const used = process.cpuUsage(cpu);
const cpuSeconds = (used.user + used.system) / 1e6;
console.log(`${name}: ${seeds} seeds from ${from} converged in ${seconds.toFixed(1)} s (${cpuSeconds.toFixed(1)} s CPU)`);
for (const [k, v] of Object.entries(totals)) console.log(`  ${k}: ${v} in all, ${(v / seeds).toFixed(1)} per seed`);
