import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode as cborDecode, encode as cborEncode } from 'cborg';
import fc from 'fast-check';
import { decodeStrictCbor, isWalkawayError } from '../../src/core/index.ts';
import { scanCbor, STRICT_CBOR } from '../../src/core/cbor.ts';

const SEED = 1515;
const WIDE = { maxItems: 1_000_000, maxDepth: 1000 };

/** An array of `n` items, each the bytes `item`. */
function arrayOf(n: number, item: number[]): Uint8Array {
  const head = n < 24 ? [0x80 + n] : n < 0x10000 ? [0x99, n >> 8, n & 0xff] : [0x9a, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(head.length + n * item.length);
  out.set(head);
  for (let i = 0; i < n; i++) out.set(item, head.length + i * item.length);
  return out;
}

const isCode =
  (code: string, check: (data: Record<string, unknown>) => boolean = () => true) =>
  (e: unknown) =>
    isWalkawayError(e, code as never) && check(e.data);

test('2 MiB of empty maps stops at the item budget, a few KB in: nothing is built', () => {
  const bomb = arrayOf(2 * 1024 * 1024 - 5, [0xa0]);
  assert.throws(
    () => decodeStrictCbor(bomb, 'frame', { maxItems: 1000, maxDepth: 4 }),
    isCode('TOO_LARGE', (d) => d.unit === 'items' && d.limit === 1000 && (d.at as number) < 1010),
  );
});

test('nesting deeper than the cap is TOO_LARGE at the first container too deep', () => {
  const deep = new Uint8Array(10_000).fill(0x81);
  assert.throws(
    () => decodeStrictCbor(deep, 'frame', { maxItems: 100_000, maxDepth: 16 }),
    isCode('TOO_LARGE', (d) => d.unit === 'depth' && (d.at as number) === 17),
  );
  // Maps and tags nest too.
  const maps = new Uint8Array(40).fill(0xa1);
  assert.throws(
    () => scanCbor(maps, 'x', { maxItems: 1000, maxDepth: 8 }),
    isCode('TOO_LARGE', (d) => d.unit === 'depth'),
  );
  const tags = new Uint8Array(40).fill(0xc1);
  assert.throws(
    () => scanCbor(tags, 'x', { maxItems: 1000, maxDepth: 8 }),
    isCode('TOO_LARGE', (d) => d.unit === 'depth'),
  );
});

test('a byte size over maxBytes is refused before any item is read', () => {
  assert.throws(
    () => decodeStrictCbor(new Uint8Array(101), 'x', { maxItems: 10, maxDepth: 2, maxBytes: 100 }),
    isCode('TOO_LARGE', (d) => d.unit === 'bytes'),
  );
});

test('lies and leftovers are MALFORMED: lengths beyond the input, truncation, indefinite and reserved heads, trailing bytes', () => {
  const cases: [string, number[]][] = [
    ['array of 2^32 - 1 items in 5 bytes', [0x9b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]],
    ['map of 2^31 pairs', [0xba, 0x80, 0, 0, 0]],
    ['byte string longer than the input', [0x5a, 0, 1, 0, 0, 1, 2, 3]],
    ['text string longer than the input', [0x78, 40, 0x61]],
    ['truncated head', [0x19, 0x01]],
    ['array missing an item', [0x82, 0x01]],
    ['indefinite array', [0x9f, 0x01, 0xff]],
    ['indefinite byte string', [0x5f, 0x41, 0x00, 0xff]],
    ['a lone break', [0xff]],
    ['reserved additional info', [0x1c]],
    ['trailing bytes', [0x01, 0x02]],
    ['nothing at all', []],
  ];
  for (const [what, bytes] of cases) {
    assert.throws(() => decodeStrictCbor(new Uint8Array(bytes), what, WIDE), isCode('MALFORMED'), what);
  }
});

test('honest values within the limits decode exactly as cborg decodes them', () => {
  const value = fc.letrec((tie) => ({
    leaf: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.string(), fc.uint8Array({ maxLength: 40 }), fc.double({ noNaN: true, noDefaultInfinity: true })),
    node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 5 }), fc.dictionary(fc.string({ maxLength: 4 }), tie('node'), { maxKeys: 4 })),
  })).node;
  fc.assert(
    fc.property(value, (v) => {
      const bytes = cborEncode(v);
      assert.deepEqual(decodeStrictCbor(bytes, 'value', WIDE), cborDecode(bytes, STRICT_CBOR));
    }),
    { seed: SEED, numRuns: 500 },
  );
});

test('on any bytes the scan never refuses what cborg accepts, and every refusal is typed', () => {
  const outcome = (f: () => unknown) => {
    try {
      return { ok: true, value: f() };
    } catch (e) {
      return { ok: false, error: e };
    }
  };
  const bytesArb = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    // Valid encodings with one byte changed: near misses exercise every head.
    fc
      .tuple(
        fc.array(fc.oneof(fc.integer(), fc.string(), fc.uint8Array({ maxLength: 30 }), fc.array(fc.integer(), { maxLength: 30 }))),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
      )
      .map(([v, at, b]) => {
        const bytes = new Uint8Array(cborEncode(v));
        bytes[at % bytes.length] = b;
        return bytes;
      }),
  );
  fc.assert(
    fc.property(bytesArb, (bytes) => {
      const ours = outcome(() => decodeStrictCbor(bytes, 'x', WIDE));
      const theirs = outcome(() => cborDecode(bytes, STRICT_CBOR));
      if (theirs.ok) assert.deepEqual(ours, theirs);
      else assert.ok(!ours.ok && isWalkawayError(ours.error), `typed refusal of ${Buffer.from(bytes).toString('hex')}`);
    }),
    { seed: SEED, numRuns: 3000 },
  );
});

test('budgets count every item: an array of n integers is n + 1 items', () => {
  const bytes = arrayOf(100, [0x01]);
  scanCbor(bytes, 'x', { maxItems: 101, maxDepth: 1 });
  assert.throws(() => scanCbor(bytes, 'x', { maxItems: 100, maxDepth: 1 }), isCode('TOO_LARGE'));
  const map = new Uint8Array(cborEncode({ a: 1, b: [1, 2] }));
  scanCbor(map, 'x', { maxItems: 7, maxDepth: 2 }); // map, a, 1, b, array, 1, 2
  assert.throws(() => scanCbor(map, 'x', { maxItems: 6, maxDepth: 2 }), isCode('TOO_LARGE'));
  assert.throws(() => scanCbor(map, 'x', { maxItems: 7, maxDepth: 1 }), isCode('TOO_LARGE'));
});
