/**
 * web/qr.js, the page's QR encoder: its Reed-Solomon and format bits match
 * the standard's worked examples, and codes of every size a ticket can need
 * read back (test/helpers/qr-decode.ts, written apart from the encoder).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBits, qrMatrix, reedSolomon } from '../../web/qr.js';
import { decodeMatrix } from '../helpers/qr-decode.ts';

test('Reed-Solomon codewords of the "HELLO WORLD" 1-Q example', () => {
  const data = [32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17];
  assert.deepEqual(reedSolomon(data, 10), [196, 35, 39, 119, 235, 215, 231, 226, 93, 23]);
});

test('format bits of the standard: M with mask 0, L with mask 0, M with mask 5', () => {
  assert.equal(formatBits('M', 0).toString(2).padStart(15, '0'), '101010000010010');
  assert.equal(formatBits('L', 0).toString(2).padStart(15, '0'), '111011111000100');
  assert.equal(formatBits('M', 5).toString(2).padStart(15, '0'), '100000011001110');
});

test('codes from 1 to 2,000 bytes read back, at levels L and M', () => {
  const seen = new Set<number>();
  for (const level of ['L', 'M'] as const) {
    for (const length of [1, 14, 17, 32, 100, 200, 271, 400, 600, 1000, 1500, 2000]) {
      const text = `walkaway:${'Ab9_-'.repeat(length)}`.slice(0, length) + (length > 20 ? 'é' : '');
      const m = qrMatrix(text, level);
      const read = decodeMatrix(m);
      assert.equal(read.text, text);
      assert.equal(read.level, level);
      seen.add(read.version);
    }
  }
  assert.ok(
    [...seen].some((v) => v >= 7),
    'versions with version bits were read',
  );
  assert.ok(
    [...seen].some((v) => v >= 10),
    'versions with 16-bit counts were read',
  );
});

test('a text too long for version 40 is refused', () => {
  assert.throws(() => qrMatrix('x'.repeat(3000), 'M'), /do not fit/);
});
