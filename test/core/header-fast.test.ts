import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode as cborDecode, encode as cborEncode } from 'cborg';
import fc from 'fast-check';
import { decodeHeaderFast } from '../../src/core/header-fast.ts';
import { decodeHeader, decodeHeaderGeneric } from '../../src/core/header.ts';

const SEED = 4321;
const RUNS = 3000;

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
/** Integers around every CBOR head boundary, and up to and past the safe range. */
const uintArb = fc.oneof(
  fc.nat({ max: 30 }),
  fc.constantFrom(23, 24, 255, 256, 65535, 65536, 0xffff_ffff, 2 ** 32, Number.MAX_SAFE_INTEGER),
  fc.nat({ max: 0xffff_ffff }),
  fc.maxSafeNat(),
);
const sortedHashes = fc
  .uniqueArray(bytes(32), { maxLength: 30, comparator: (a, b) => Buffer.compare(a, b) === 0 })
  .map((list) => list.sort((a, b) => Buffer.compare(a, b)));
const anyCbor = fc.oneof(
  fc.nat(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 8 }),
  fc.uint8Array({ maxLength: 40 }),
  fc.array(fc.nat({ max: 300 }), { maxLength: 3 }),
);

/** Extensions as CBOR items: the known variants, unknown ones, extra trailing fields. */
const extensionsArb: fc.Arbitrary<unknown[] | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.tuple(bytes(32), uintArb, fc.boolean()).map(([logId, ts, flag]) => [1, 0, logId, ts, flag]),
  fc.tuple(bytes(32), uintArb, sortedHashes).map(([logId, ts, prev]) => [1, 1, logId, ts, prev]),
  fc
    .tuple(fc.constantFrom(0, 1), bytes(32), uintArb, fc.boolean(), sortedHashes, fc.array(anyCbor, { minLength: 1, maxLength: 3 }))
    .map(([v, logId, ts, flag, prev, extra]) => [1, v, logId, ts, v === 0 ? flag : prev, ...extra]),
  fc.tuple(uintArb, uintArb, fc.array(anyCbor, { maxLength: 4 })).map(([version, variant, rest]) => [version, variant, ...rest]),
);

const headerArb = fc
  .record({
    key: bytes(32),
    sig: bytes(64),
    payloadSize: uintArb,
    payloadHash: bytes(32),
    seqNum: uintArb,
    backlink: bytes(32),
    extensions: extensionsArb,
  })
  .map(({ key, sig, payloadSize, payloadHash, seqNum, backlink, extensions }) => {
    const items: unknown[] = [1, key, sig, payloadSize];
    if (payloadSize > 0) items.push(payloadHash);
    items.push(seqNum);
    if (seqNum > 0) items.push(backlink);
    if (extensions) items.push(extensions);
    const out = cborEncode(items);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength).slice();
  });

const mutationArb = fc.record({
  kind: fc.constantFrom('set', 'flip', 'insert', 'delete', 'truncate', 'append', 'widen', 'widen'),
  position: fc.nat(),
  value: fc.nat({ max: 255 }),
  count: fc.integer({ min: 1, max: 3 }),
});

function mutate(b: Uint8Array, m: { kind: string; position: number; value: number; count: number }): Uint8Array {
  const at = m.position % (b.length + 1);
  const list = [...b];
  if (m.kind === 'widen') {
    // A wider head with the same value at a byte that may be a head: small integers, array and byte-string heads.
    const heads = list.map((_, i) => i).filter((i) => list[i] < 24 || (list[i] >= 0x80 && list[i] < 0x98) || list[i] === 0x58);
    if (heads.length === 0) return b;
    const i = heads[m.position % heads.length];
    const x = list[i];
    const major = x & 0xe0;
    const wider = x === 0x58 ? [0x59, 0, list[i + 1]] : m.value % 2 ? [major | 0x18, x & 0x1f] : [major | 0x19, 0, x & 0x1f];
    list.splice(i, x === 0x58 ? 2 : 1, ...wider);
    return new Uint8Array(list);
  }
  for (let k = 0; k < m.count; k++) {
    const i = Math.min(at + k, list.length - 1);
    if (m.kind === 'set') list[i] = m.value;
    else if (m.kind === 'flip') list[i] ^= 1 << (m.value % 8);
    else if (m.kind === 'insert') list.splice(at, 0, m.value);
    else if (m.kind === 'delete') list.splice(at, 1);
    else if (m.kind === 'append') list.push(m.value);
  }
  return new Uint8Array(m.kind === 'truncate' ? list.slice(0, at) : list);
}

type Outcome = { ok: true; value: unknown } | { ok: false; code: unknown; name: string };

function outcome(fn: () => unknown): Outcome {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    return { ok: false, code: (err as { code?: unknown }).code, name: (err as Error).name };
  }
}

/** Whatever the fast path accepts, the reference accepts with the same value; the combined decoder agrees with the reference. */
function assertSame(b: Uint8Array): void {
  const reference = outcome(() => decodeHeaderGeneric(b));
  const fast = decodeHeaderFast(b);
  if (fast !== undefined) {
    assert.ok(reference.ok, `fast path accepted bytes the reference rejects: ${Buffer.from(b).toString('hex')}`);
    assert.deepStrictEqual(fast, reference.value);
  }
  assert.deepStrictEqual(
    outcome(() => decodeHeader(b)),
    reference,
  );
  assert.deepStrictEqual(
    outcome(() => decodeHeader(b, { trusted: true })),
    outcome(() => decodeHeaderGeneric(b, { trusted: true })),
  );
}

test('fast header decoder: valid headers decode to the same value as the reference', () => {
  fc.assert(
    fc.property(headerArb, (b) => assertSame(b)),
    { seed: SEED, numRuns: RUNS },
  );
});

test('fast header decoder: mutated headers get the same decision, error code and value', () => {
  fc.assert(
    fc.property(headerArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (b, mutations) => {
      let m: Uint8Array = b;
      for (const mutation of mutations) m = mutate(m, mutation);
      assertSame(m);
    }),
    { seed: SEED, numRuns: RUNS * 3 },
  );
});

test('fast header decoder: takes the common shapes itself (not only the fallback)', () => {
  fc.assert(
    fc.property(headerArb, (b) => {
      const items = cborDecode(b) as unknown[];
      const ext = items.length > 5 && Array.isArray(items[items.length - 1]) ? (items[items.length - 1] as unknown[]) : undefined;
      const u32 = (v: unknown) => typeof v === 'number' && v <= 0xffff_ffff;
      const fieldsOk = u32(items[3]) && u32(items[(items[3] as number) > 0 ? 5 : 4]);
      const extOk = !ext || (ext.length === 5 && ext[0] === 1 && (ext[1] === 0 || ext[1] === 1) && typeof ext[3] === 'number');
      if (fieldsOk && extOk && outcome(() => decodeHeaderGeneric(b)).ok) {
        assert.ok(decodeHeaderFast(b), `fast path declined a common header: ${Buffer.from(b).toString('hex')}`);
      }
    }),
    { seed: SEED, numRuns: 1000 },
  );
});

test('fast header decoder: boundary integers and previous lists', () => {
  const key = new Uint8Array(32).fill(1);
  const sig = new Uint8Array(64).fill(2);
  const h = (n: number) => new Uint8Array(32).fill(n);
  for (const ts of [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
    for (const prev of [
      [],
      [h(1)],
      Array.from({ length: 24 }, (_, i) => h(i + 1)),
      Array.from({ length: 256 }, (_, i) => new Uint8Array(32).fill(0).map((_, j) => (j === 30 ? i >> 8 : j === 31 ? i & 0xff : 0))),
    ]) {
      const b = new Uint8Array(cborEncode([1, key, sig, ts % 2 ** 32, h(3), ts % 2 ** 32, h(4), [1, 1, h(5), ts, prev]]));
      assertSame(b);
      if (prev.length < 256 && ts % 2 ** 32 > 0) assert.ok(decodeHeaderFast(b), `fast path declined ts ${ts} with ${prev.length} previous`);
    }
  }
  // Non-canonical integer widths and lengths are rejected exactly as before.
  const base = [...new Uint8Array(cborEncode([1, key, sig, 5, h(3), 7, h(4)]))];
  const wide = [...base];
  wide.splice(base.length - 34 - 1, 1, 0x18, 7); // seqNum 7 as 0x18 0x07
  assertSame(new Uint8Array(wide));
  assert.equal(outcome(() => decodeHeader(new Uint8Array(wide))).ok, false);
});
