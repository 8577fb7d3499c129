import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { EventHeap } from '../../sim/heap.ts';

it('event heap pops in (time, sequence) order for any insertion order', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }), (times) => {
      const heap = new EventHeap<{ t: number; seq: number }>();
      times.forEach((t, seq) => heap.push({ t, seq }));
      const popped: Array<{ t: number; seq: number }> = [];
      for (let e = heap.pop(); e; e = heap.pop()) popped.push(e);
      const expected = times.map((t, seq) => ({ t, seq })).sort((a, b) => a.t - b.t || a.seq - b.seq);
      assert.deepEqual(popped, expected);
    }),
    { seed: 7, numRuns: 200 },
  );
});
