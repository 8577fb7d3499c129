/**
 * A slice of the seeded model (test/auth/model.ts): 25 seeds of 12 actors
 * under 6 rounds of random partitions converge, whatever the causal
 * delivery order. `npm run model -- auth` runs 1,000 seeds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runModel } from './model.ts';

test('25 seeds: after a full sync every replica, and every causal delivery order, has the same members and levels', () => {
  let operations = 0;
  let ignored = 0;
  for (let seed = 0; seed < 25; seed++) {
    const outcome = runModel(seed);
    assert.ok(outcome.ok, `seed ${seed}: ${outcome.detail}`);
    operations += outcome.operations;
    ignored += outcome.ignored;
  }
  assert.ok(operations > 25 * 10, `the actors acted (${operations} operations)`);
  assert.ok(ignored > 0, `strong removal was exercised (${ignored} ignored operations)`);
});
