import assert from 'node:assert/strict';
import { test } from 'node:test';
import { realRuntime } from '../../src/core/runtime.ts';

/** How many of the event loop's active (ref'd) resources are of this kind. */
const active = (kind: string) => process.getActiveResourcesInfo().filter((r) => r === kind).length;

// Node's poll phase does not wait for an unref'd immediate: it runs only at
// the next I/O or timer, so a gossip flush or an inbound commit set with a
// zero delay waited for whatever woke the process next.
test('a zero-delay timer of the real runtime holds the event loop for its turn', async () => {
  const runtime = realRuntime();
  const before = active('Immediate');
  let held = -1;
  await new Promise<void>((resolve) => {
    runtime.setTimer(0, resolve);
    held = active('Immediate');
  });
  assert.equal(held, before + 1);
  assert.equal(active('Immediate'), before);
});

test('a delayed timer of the real runtime does not keep the process alive unless asked', () => {
  const runtime = realRuntime();
  const before = active('Timeout');
  const loose = runtime.setTimer(60_000, () => {});
  assert.equal(active('Timeout'), before);
  const kept = runtime.setTimer(60_000, () => {}, true);
  assert.equal(active('Timeout'), before + 1);
  runtime.clearTimer(loose);
  runtime.clearTimer(kept);
  assert.equal(active('Timeout'), before);
});
