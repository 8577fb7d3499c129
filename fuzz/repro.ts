/**
 * Reproduces one input: `node --import tsx fuzz/repro.ts TARGET HEX|FILE [runs]`. Prints what the decoder returned or
 * threw (and whether that counts as a failure) and the cost of each run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { DECODE_BUDGET_US_PER_KIB, fromHex } from './engine.ts';
import { Rng } from './prng.ts';
import { expectWalkawayError } from './target.ts';
import { targetByName } from './targets/index.ts';

const [name, hexOrFile, runs = '5'] = process.argv.slice(2);
const target = name ? await targetByName(name) : undefined;
if (!target || !hexOrFile) {
  console.error('usage: node --import tsx fuzz/repro.ts TARGET HEX|FILE [runs]');
  process.exit(2);
}
// Seeds also set a target up (the web target starts its server there).
await target.seeds(new Rng(`seeds/${name}`));
const input = fromHex(existsSync(hexOrFile) ? readFileSync(hexOrFile, 'utf8') : hexOrFile);
const budget = target.budgetUsPerKiB ?? DECODE_BUDGET_US_PER_KIB;
let failed = false;
for (let i = 0; i < Number(runs); i++) {
  const t0 = process.hrtime.bigint();
  let outcome: string;
  try {
    const result = await target.run(input);
    outcome = `returned ${String(JSON.stringify(result, (_k, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v)))?.slice(0, 200)}`;
  } catch (err) {
    const ok = (target.expected ?? expectWalkawayError)(err);
    failed ||= !ok;
    outcome = `${ok ? 'expected error' : 'UNTYPED ERROR'} ${(err as Error)?.constructor?.name}: ${String((err as Error)?.message).slice(0, 200)}`;
  }
  const us = Number(process.hrtime.bigint() - t0) / 1000;
  const perKiB = us / Math.max(1, input.length / 1024);
  if (i === 0) console.log(`${name}: ${input.length} bytes: ${outcome}`);
  console.log(`  run ${i + 1}: ${us.toFixed(1)} µs, ${perKiB.toFixed(1)} µs/KiB${perKiB > budget ? ` (over ${budget})` : ''}`);
}
await target.close?.();
process.exit(failed ? 1 : 0);
