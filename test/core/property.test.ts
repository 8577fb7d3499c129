import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createOperation, decodeOperation, Hash, isWalkawayError, PrivateKey, type Extensions } from '../../src/core/index.ts';

const SEED = 1234;

const hashArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Hash.fromBytes(b));
const extensionsArb: fc.Arbitrary<Extensions | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.record({
    variant: fc.constant('basic' as const),
    logId: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    timestamp: fc.maxSafeNat(),
    pruneFlag: fc.boolean(),
  }),
  fc.record({
    variant: fc.constant('causal' as const),
    logId: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    timestamp: fc.maxSafeNat(),
    previous: fc.array(hashArb, { maxLength: 5 }),
  }),
);

const opArb = fc
  .record({
    seed: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    body: fc.option(fc.uint8Array({ maxLength: 200 }), { nil: undefined }),
    seqNum: fc.nat({ max: 0xffff_ffff }),
    backlink: hashArb,
    extensions: extensionsArb,
  })
  .map(({ seed, body, seqNum, backlink, extensions }) =>
    createOperation({
      privateKey: PrivateKey.fromBytes(seed),
      body,
      seqNum,
      backlink: seqNum > 0 ? backlink : undefined,
      extensions,
    }),
  );

test('property: decode(encode(op)) gives the same operation', () => {
  fc.assert(
    fc.property(opArb, (op) => {
      const decoded = decodeOperation(op.headerBytes, op.body);
      assert.ok(decoded.hash.equals(op.hash));
      assert.equal(decoded.header.seqNum, op.header.seqNum);
      assert.equal(decoded.header.payloadSize, op.header.payloadSize);
      // fast-check records have a null prototype: compare plain copies.
      assert.deepEqual({ ...decoded.header.extensions }, { ...op.header.extensions });
    }),
    { seed: SEED, numRuns: 200 },
  );
});

test('property: any mutation of a valid header is rejected or decodes to a different hash', () => {
  const mutation = fc.record({
    position: fc.nat(),
    kind: fc.constantFrom('flip', 'delete', 'insert'),
    value: fc.integer({ min: 0, max: 255 }),
  });
  fc.assert(
    fc.property(opArb, mutation, (op, { position, kind, value }) => {
      const bytes = Array.from(op.headerBytes);
      const at = position % bytes.length;
      if (kind === 'flip') bytes[at] ^= value || 1;
      else if (kind === 'delete') bytes.splice(at, 1);
      else bytes.splice(at, 0, value);
      let decoded: ReturnType<typeof decodeOperation>;
      try {
        decoded = decodeOperation(new Uint8Array(bytes), op.body);
      } catch (err) {
        assert.ok(isWalkawayError(err), `a mutation threw a non-typed error: ${String(err)}`);
        return;
      }
      assert.ok(!decoded.hash.equals(op.hash), 'a mutated header decoded to the same hash');
    }),
    { seed: SEED, numRuns: 500 },
  );
});

test('property: arbitrary bytes never crash the decoder, only typed errors', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      try {
        decodeOperation(bytes);
      } catch (err) {
        assert.ok(isWalkawayError(err), `untyped error: ${String(err)}`);
      }
    }),
    { seed: SEED, numRuns: 500 },
  );
});
