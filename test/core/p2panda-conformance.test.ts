import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decodeOperation, encodeHeader, fromHex, isWalkawayError, toHex, unsignedBytesOf, withSignature } from '../../src/core/index.ts';

/**
 * 31 operations made by the real p2panda-core 0.7.0 crate, signed with a fixed
 * key (shared vectors, copied here so that a clone has them). `expect`:
 * valid, valid_without_body, invalid, or p2panda_valid_walkaway_policy
 * (p2panda's header rules accept it; Walkaway's extension rules decide).
 */
interface Vector {
  name: string;
  ext: string;
  expect: 'valid' | 'valid_without_body' | 'invalid' | 'p2panda_valid_walkaway_policy';
  header: string;
  unsigned: string;
  body: string | null;
  hash: string;
}

const vectors = JSON.parse(readFileSync(new URL('../fixtures/p2panda-core-0.7.0.json', import.meta.url), 'utf8')) as Vector[];

/**
 * Where Walkaway's own extension rules (not p2panda's header rules) decide,
 * and what they decide (docs/interfaces.md, "Validation against p2panda-core 0.7").
 */
const POLICY: Record<string, { code: string } | { variant: string }> = {
  // Walkaway's basic layout keeps timestamps as safe integers (µs up to the year 2255).
  basic_ext_ts_2p53: { code: 'MALFORMED' },
  basic_ext_ts_u64max: { code: 'MALFORMED' },
  // `previous` is sorted and unique, so that equal dependencies give equal bytes.
  causal_ext_unsorted_prev: { code: 'MALFORMED' },
  // Decodes; the store refuses it (UNSUPPORTED_EXTENSION), nothing forwards it.
  ext_unknown_variant_9: { variant: 'unknown' },
  // Extensions are the versioned array [1, variant, ...], not a map.
  p2panda_style_struct_ext_map: { code: 'MALFORMED' },
};

test('the p2panda-core 0.7.0 vectors are there', () => {
  assert.ok(vectors.length >= 31);
  assert.ok(vectors.some((v) => v.expect === 'invalid'));
});

for (const v of vectors) {
  const header = fromHex(v.header);
  const body = v.body === null ? undefined : fromHex(v.body);
  const policy = POLICY[v.name];
  if (policy && 'code' in policy) {
    test(`p2panda vector ${v.name} (${v.expect}): Walkaway's extension rules refuse it with ${policy.code}`, () => {
      assert.throws(
        () => decodeOperation(header, body),
        (e: unknown) => isWalkawayError(e, policy.code as never),
      );
    });
  } else if (v.expect === 'invalid') {
    test(`p2panda vector ${v.name}: refused with a typed error, as p2panda refuses it`, () => {
      assert.throws(
        () => decodeOperation(header, body),
        (e: unknown) => isWalkawayError(e),
      );
    });
  } else {
    test(`p2panda vector ${v.name} (${v.expect}): decodes, verifies, hashes and re-encodes to the same bytes`, () => {
      const op = decodeOperation(header, body);
      assert.equal(op.hash.toHex(), v.hash);
      assert.equal(toHex(unsignedBytesOf(header)), v.unsigned);
      if (policy && 'variant' in policy) {
        assert.equal(op.header.extensions?.variant, policy.variant);
        return;
      }
      assert.equal(toHex(withSignature(encodeHeader(op.header), op.header.signature)), v.header);
      assert.equal(toHex(encodeHeader(op.header, op.header.signature)), v.header);
      if (v.expect === 'valid_without_body') assert.equal(body, undefined);
      else if (body) assert.deepEqual(op.body, body);
    });
  }
}

test('an explicitly present empty body with payload size 0 is PAYLOAD_MISMATCH, as in p2panda (no body is fine)', () => {
  const v = vectors.find((x) => x.name === 'fixture_seq0_nobody')!;
  const header = fromHex(v.header);
  assert.equal(decodeOperation(header).hash.toHex(), v.hash);
  assert.throws(
    () => decodeOperation(header, new Uint8Array(0)),
    (e: unknown) => isWalkawayError(e, 'PAYLOAD_MISMATCH'),
  );
});

test('a body given for a header of payload size 13 must be exactly it: empty, shorter or other bytes are PAYLOAD_MISMATCH', () => {
  const v = vectors.find((x) => x.name === 'fixture_seq0_body')!;
  const header = fromHex(v.header);
  const body = fromHex(v.body!);
  for (const bad of [new Uint8Array(0), body.subarray(1), new Uint8Array(body.length)]) {
    assert.throws(
      () => decodeOperation(header, bad),
      (e: unknown) => isWalkawayError(e, 'PAYLOAD_MISMATCH'),
    );
  }
});
