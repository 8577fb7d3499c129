/**
 * The LWW body decoder's fast path must accept exactly what cborg accepts,
 * to the same value, and reject the rest with MALFORMED.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode as cborDecode, encode as cborEncode } from 'cborg';
import fc from 'fast-check';
import { isWalkawayError } from '../../src/core/index.ts';
import { decodeLwwBody, encodeLwwWrite } from '../../src/processors/crdt/lww-body.ts';

const SEED = 20261202;
const RUNS = 4000;

/** What cborg makes of `bytes` as an LWW body, or 'error'. */
function reference(bytes: Uint8Array): { key: string; value: unknown; deleted: boolean } | 'error' {
  let v: unknown;
  try {
    v = cborDecode(bytes);
  } catch {
    return 'error';
  }
  if (!Array.isArray(v) || typeof v[0] !== 'string' || v.length < 1 || v.length > 2) return 'error';
  return v.length === 1 ? { key: v[0], value: undefined, deleted: true } : { key: v[0], value: v[1], deleted: false };
}

function ours(bytes: Uint8Array): ReturnType<typeof reference> {
  try {
    return decodeLwwBody(bytes);
  } catch (err) {
    assert.ok(isWalkawayError(err, 'MALFORMED'), `typed error, got ${String(err)}`);
    return 'error';
  }
}

const valueArb = fc.oneof(
  fc.integer({ min: -(2 ** 32), max: 2 ** 32 - 1 }),
  fc.constantFrom(0, 23, 24, 255, 256, 65535, 65536, 2 ** 31, 2 ** 32 - 1, -1, -24, -25, -(2 ** 32), 2 ** 40, Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.uint8Array({ maxLength: 8 }),
  fc.double(),
  fc.array(fc.nat({ max: 300 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.nat(), { maxKeys: 2 }),
);
const keyArb = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ minLength: 250, maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 6 }));
const bodyArb = fc.oneof(
  fc.tuple(keyArb, valueArb).map(([k, v]) => encodeLwwWrite(k, v)),
  keyArb.map((k) => encodeLwwWrite(k)),
  fc.array(valueArb, { maxLength: 3 }).map((items) => cborEncode(items)),
);

/** Bytes changed, cut short, extended, or a head made non-minimal. */
const mutatedArb = fc.tuple(bodyArb, fc.nat(), fc.nat({ max: 255 }), fc.constantFrom('flip', 'cut', 'extend', 'widen')).map(([body, at, byte, how]) => {
  const b = Uint8Array.from(body);
  const i = b.length === 0 ? 0 : at % b.length;
  if (how === 'flip' && b.length > 0) b[i] = byte;
  if (how === 'cut') return b.subarray(0, i);
  if (how === 'extend') return Uint8Array.from([...b, byte]);
  // A one-byte head (< 24) written with one more byte: cborg's default mode accepts it.
  if (how === 'widen' && b.length > 1 && (b[i] & 0x1f) < 24 && b[i] >> 5 !== 7) {
    return Uint8Array.from([...b.subarray(0, i), (b[i] & 0xe0) | 24, b[i] & 0x1f, ...b.subarray(i + 1)]);
  }
  return b;
});

test('decodeLwwBody agrees with cborg on encoded writes and other CBOR', () => {
  fc.assert(
    fc.property(bodyArb, (body) => {
      assert.deepEqual(ours(body), reference(body));
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

test('decodeLwwBody agrees with cborg on mutated bodies (accepts the same, rejects with MALFORMED)', () => {
  fc.assert(
    fc.property(mutatedArb, (body) => {
      assert.deepEqual(ours(body), reference(body));
    }),
    { seed: SEED + 1, numRuns: RUNS },
  );
});

test('decodeLwwBody reads the shapes its fast path covers', () => {
  assert.deepEqual(decodeLwwBody(encodeLwwWrite('key-7', 4_000_000_000)), { key: 'key-7', value: 4_000_000_000, deleted: false });
  assert.deepEqual(decodeLwwBody(encodeLwwWrite('k', -70_000)), { key: 'k', value: -70_000, deleted: false });
  assert.deepEqual(decodeLwwBody(encodeLwwWrite('k', 'v')), { key: 'k', value: 'v', deleted: false });
  assert.deepEqual(decodeLwwBody(encodeLwwWrite('k', null)), { key: 'k', value: null, deleted: false });
  assert.deepEqual(decodeLwwBody(encodeLwwWrite('gone')), { key: 'gone', value: undefined, deleted: true });
  assert.deepEqual(decodeLwwBody(Uint8Array.of(0x82, 0x78, 0x01, 0x6b, 0x18, 0x05)), { key: 'k', value: 5, deleted: false });
  for (const bad of [Uint8Array.of(), Uint8Array.of(0x80), Uint8Array.of(0x82, 0x01, 0x02), Uint8Array.of(0x82, 0x61, 0x6b), Uint8Array.of(0x81, 0x61, 0x6b, 0x00)]) {
    assert.throws(
      () => decodeLwwBody(bad),
      (err: unknown) => isWalkawayError(err, 'MALFORMED'),
    );
  }
});
