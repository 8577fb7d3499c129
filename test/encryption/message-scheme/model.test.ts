/**
 * A slice of the message scheme's model test (test/dcgka/model.ts): random
 * runs of says, updates, adds and removes under partitions, where every
 * message must be opened by exactly the members in its sender's view and
 * every view must match an independent reference. `npm run model -- dcgka`
 * runs 1,000 seeds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runModel } from '../../dcgka/model.ts';

test("message scheme model: 4 seeds, exactly the sender's view opens each message", async () => {
  let messages = 0;
  let readings = 0;
  for (let seed = 0; seed < 4; seed++) {
    const outcome = await runModel(seed);
    assert.ok(outcome.ok, `seed ${seed}: ${outcome.detail}`);
    messages += outcome.messages;
    readings += outcome.readings;
  }
  assert.ok(messages > 8, `members spoke (${messages} messages)`);
  assert.ok(readings > messages, `and were read (${readings} readings)`);
});
