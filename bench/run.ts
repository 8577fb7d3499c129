/**
 * `npm run bench -- <name> [args]`: runs bench/<name>.ts, prints its figures
 * as a table and writes them to bench/results/<name>.json. Without a name,
 * runs every benchmark in turn. Benchmarks export `run(args)`.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { printTable } from './table.ts';

const here = dirname(fileURLToPath(import.meta.url));
const NOT_BENCHMARKS = new Set(['run', 'table']);

function available(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.ts') && !f.includes('-'))
    .map((f) => f.slice(0, -3))
    .filter((name) => !NOT_BENCHMARKS.has(name))
    .sort();
}

async function runOne(name: string, args: string[]): Promise<void> {
  const file = join(here, `${name}.ts`);
  if (!/^[a-z0-9]+$/.test(name) || !existsSync(file)) {
    console.error(`unknown benchmark ${JSON.stringify(name)}; available: ${available().join(', ')}`);
    process.exit(2);
  }
  const mod = (await import(pathToFileURL(file).href)) as { run: (args: string[]) => Promise<Record<string, unknown>> };
  console.log(`# ${name}`);
  const result = await mod.run(args);
  printTable(result);
  mkdirSync(join(here, 'results'), { recursive: true });
  const out = join(here, 'results', `${name}.json`);
  writeFileSync(out, JSON.stringify({ ...result, measuredAt: new Date().toISOString() }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

const [name, ...args] = process.argv.slice(2);
if (name === '--help' || name === '-h') {
  console.log(`usage: npm run bench -- <name> [args]\navailable: ${available().join(', ')}`);
} else if (name) {
  await runOne(name, args);
} else {
  for (const each of available()) await runOne(each, []);
}
