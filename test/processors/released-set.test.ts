import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isWalkawayError } from '../../src/core/index.ts';
import { decodeReleasedSet, emptyReleasedSet, encodeReleasedSet, isSettled, settle } from '../../src/processors/released-set.ts';

describe('released set (watermark + bitmap)', () => {
  test('any settle order gives the same watermark and membership, and survives encoding', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 70_000 }), { maxLength: 400 }), fc.integer({ min: 0, max: 40_000 }), (seqs, prefix) => {
        const set = emptyReleasedSet();
        for (let s = 1; s <= prefix; s++) settle(set, s);
        for (const s of seqs) settle(set, s);
        const all = new Set([...seqs, ...Array.from({ length: prefix }, (_, i) => i + 1)]);
        let w = 0;
        while (all.has(w + 1)) w++;
        assert.equal(set.watermark, w);
        const back = decodeReleasedSet(encodeReleasedSet(set));
        assert.equal(back.watermark, w);
        for (const s of [...seqs, w, w + 1, w + 2, 70_001]) assert.equal(isSettled(back, s), s <= w || all.has(s));
      }),
      { seed: 4242, numRuns: 60 },
    );
  });

  test('a damaged cursor is a typed error', () => {
    assert.throws(
      () => decodeReleasedSet(new Uint8Array([9, 1, 2])),
      (e) => isWalkawayError(e, 'MALFORMED'),
    );
  });
});
