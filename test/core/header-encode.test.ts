import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeHeaderFast } from '../../src/core/header-encode.ts';
import { encodeHeader, encodeHeaderGeneric, type UnsignedHeader } from '../../src/core/header.ts';
import { Hash, PrivateKey, type Extensions } from '../../src/core/index.ts';

const SEED = 8765;
const RUNS = 3000;

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const hash = bytes(32).map((b) => Hash.fromBytes(b));
/** Integers around every CBOR head boundary, and up to the safe range. */
const uintArb = fc.oneof(
  fc.nat({ max: 30 }),
  fc.constantFrom(23, 24, 255, 256, 65535, 65536, 0xffff_ffff, 2 ** 32, Number.MAX_SAFE_INTEGER),
  fc.nat({ max: 0xffff_ffff }),
  fc.maxSafeNat(),
);
const extensionsArb: fc.Arbitrary<Extensions | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.record({ variant: fc.constant('basic' as const), logId: bytes(32), timestamp: uintArb, pruneFlag: fc.boolean() }),
  // Unsorted, with duplicates: both encoders sort and de-duplicate.
  fc.record({ logId: bytes(32), timestamp: uintArb, previous: fc.array(hash, { maxLength: 30 }), dup: fc.nat() }).map(({ logId, timestamp, previous, dup }) => ({
    variant: 'causal' as const,
    logId,
    timestamp,
    previous: previous.length > 0 ? [...previous, previous[dup % previous.length]] : previous,
  })),
);
const key = PrivateKey.fromBytes(new Uint8Array(32).fill(7)).publicKey;

const headerArb: fc.Arbitrary<UnsignedHeader> = fc
  .record({ payloadSize: uintArb, payloadHash: hash, seqNum: uintArb, backlink: hash, extensions: extensionsArb })
  .map((h) => ({ version: 1, publicKey: key, ...h }));

test('encodeHeaderFast writes the bytes of the generic encoder, signed and unsigned', () => {
  fc.assert(
    fc.property(headerArb, fc.option(bytes(64), { nil: undefined }), (header, signature) => {
      const fast = encodeHeaderFast(header, signature);
      assert.ok(fast, 'the common shapes take the fast path');
      assert.deepEqual(fast, encodeHeaderGeneric(header, signature));
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

test('encodeHeader: shapes outside the fast path get the generic path, errors included', () => {
  const base: UnsignedHeader = { version: 1, publicKey: key, payloadSize: 0, seqNum: 0 };
  const outside: UnsignedHeader[] = [
    { ...base, extensions: { variant: 'unknown', version: 2, variantId: 0 } },
    { ...base, extensions: { variant: 'basic', logId: new Uint8Array(31), timestamp: 1, pruneFlag: false } },
    { ...base, extensions: { variant: 'basic', logId: new Uint8Array(32), timestamp: -1, pruneFlag: false } },
    { ...base, extensions: { variant: 'causal', logId: new Uint8Array(32), timestamp: 1.5, previous: [] } },
    { ...base, seqNum: -1 },
    { ...base, payloadSize: 2 ** 53 },
    { ...base, version: 0.5 },
  ];
  for (const header of outside) {
    assert.equal(encodeHeaderFast(header), undefined);
    let generic: unknown;
    let fast: unknown;
    try {
      generic = encodeHeaderGeneric(header);
    } catch (err) {
      generic = (err as Error).message;
    }
    try {
      fast = encodeHeader(header);
    } catch (err) {
      fast = (err as Error).message;
    }
    assert.deepEqual(fast, generic);
  }
  // A missing hash: the generic path throws, and so does encodeHeader.
  assert.throws(() => encodeHeader({ ...base, payloadSize: 3 }));
  assert.throws(() => encodeHeader({ ...base, seqNum: 2 }));
});
