/**
 * A short, seeded pass of every fuzz target (fuzz/README.md): each runs its
 * inputs (the committed corpus first, regressions included) and no decoder
 * throws an untyped error. Decode cost is reported, not asserted: CI
 * machines are noisy (`npm run fuzz` asserts it in its exit code).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { fuzzTarget } from '../../fuzz/engine.ts';
import { targetByName, TARGET_NAMES } from '../../fuzz/targets/index.ts';

const CORPUS = join(fileURLToPath(new URL('../../fuzz/corpus/', import.meta.url)));
const INPUTS = 3000;
const WEB_INPUTS = 200;

for (const name of TARGET_NAMES) {
  test(`fuzz ${name}: ${name === 'web' ? WEB_INPUTS : INPUTS} seeded inputs, no untyped error`, async () => {
    const target = await targetByName(name);
    assert.ok(target, `target ${name} exists`);
    const inputs = name === 'web' ? WEB_INPUTS : INPUTS;
    const report = await fuzzTarget(target, { seed: 'ci', inputs, corpusDir: CORPUS, quiet: true, minimize: false });
    assert.equal(report.inputs, inputs, `${name} ran all its inputs`);
    assert.ok(report.accepted + report.expectedErrors + report.untypedErrors === inputs);
    const found = report.findings.map((f) => `${f.error}\n  input: ${f.minimizedHex.slice(0, 400)}`).join('\n');
    assert.equal(report.untypedErrors, 0, `untyped errors in ${name}:\n${found}`);
    if (report.overBound > 0) console.log(`# ${name}: ${report.overBound} inputs over ${report.budgetUsPerKiB} µs/KiB (worst ${report.worstUsPerKiB})`);
  });
}
