import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode as cborEncode } from 'cborg';
import {
  createOperation,
  decodeHeader,
  decodeOperation,
  decodeTrustedOperation,
  DEFAULT_LIMITS,
  Hash,
  isWalkawayError,
  MAX_PREVIOUS,
  PrivateKey,
} from '../../src/core/index.ts';

const key = PrivateKey.fromBytes(new Uint8Array(32).fill(5));
const logId = new Uint8Array(32).fill(8);
const heads = (n: number) => Array.from({ length: n }, (_, i) => Hash.digest(new Uint8Array([i & 0xff, i >> 8])));
const causal = (n: number) => ({ variant: 'causal' as const, logId, timestamp: Number.MAX_SAFE_INTEGER, previous: heads(n) });

test('the largest header an author can make (MAX_PREVIOUS heads, widest fields) stays far below the 8 KiB receivers allow', () => {
  const op = createOperation({
    privateKey: key,
    seqNum: 0xffff_ffff,
    backlink: Hash.digest(new Uint8Array([1])),
    body: new Uint8Array(70_000),
    extensions: causal(MAX_PREVIOUS),
  });
  assert.ok(op.headerBytes.length <= 1316, `${op.headerBytes.length} bytes`);
  assert.ok(op.headerBytes.length * 4 < DEFAULT_LIMITS.maxHeaderBytes);
  assert.equal(decodeOperation(op.headerBytes, op.body).header.extensions?.variant, 'causal');
});

test('createOperation refuses more than MAX_PREVIOUS heads with INVALID_ARGUMENT (duplicates count once)', () => {
  assert.throws(
    () => createOperation({ privateKey: key, seqNum: 0, extensions: causal(MAX_PREVIOUS + 1) }),
    (e: unknown) => isWalkawayError(e, 'INVALID_ARGUMENT') && e.data.limit === MAX_PREVIOUS,
  );
  const dup = causal(MAX_PREVIOUS);
  dup.previous.push(dup.previous[0]);
  assert.equal(createOperation({ privateKey: key, seqNum: 0, extensions: dup }).header.extensions?.variant, 'causal');
});

test('createOperation refuses a header or body that receivers would refuse, with TOO_LARGE, before signing', () => {
  let signed = 0;
  const counting = Object.create(key, { sign: { value: (m: Uint8Array) => (signed++, key.sign(m)) } }) as PrivateKey;
  assert.throws(
    () => createOperation({ privateKey: counting, seqNum: 0, body: new Uint8Array(DEFAULT_LIMITS.maxBodyBytes + 1) }),
    (e: unknown) => isWalkawayError(e, 'TOO_LARGE') && e.data.limit === DEFAULT_LIMITS.maxBodyBytes,
  );
  const small = { maxHeaderBytes: 400, maxBodyBytes: 1024 };
  assert.throws(
    () => createOperation({ privateKey: counting, seqNum: 0, extensions: causal(10), limits: small }),
    (e: unknown) => isWalkawayError(e, 'TOO_LARGE') && e.data.limit === 400 && (e.data.size as number) > 400,
  );
  assert.equal(signed, 0, 'nothing was signed');
  // At the limit exactly: made, and accepted by a receiver with the same limits.
  const fits = createOperation({ privateKey: key, seqNum: 0, extensions: causal(2), limits: small });
  const exact = { ...small, maxHeaderBytes: fits.headerBytes.length };
  const again = createOperation({ privateKey: key, seqNum: 0, extensions: causal(2), limits: exact });
  assert.equal(decodeOperation(again.headerBytes, undefined, exact).hash.toHex(), again.hash.toHex());
});

/** A signed-looking header with `n` previous (the signature is not checked by decodeHeader). */
function headerWithPrevious(n: number): Uint8Array {
  const prev = heads(n)
    .map((h) => h.bytes)
    .sort(Buffer.compare);
  return new Uint8Array(cborEncode([1, key.publicKey.bytes, new Uint8Array(64), 0, 0, [1, 1, logId, 5, prev]]));
}

test('receivers refuse a header naming more than MAX_PREVIOUS previous with TOO_LARGE (a wire rule of the causal variant)', () => {
  assert.equal(decodeHeader(headerWithPrevious(MAX_PREVIOUS)).extensions?.variant, 'causal');
  assert.throws(
    () => decodeHeader(headerWithPrevious(MAX_PREVIOUS + 1)),
    (e: unknown) => isWalkawayError(e, 'TOO_LARGE') && e.data.size === MAX_PREVIOUS + 1,
  );
  // 300 heads (the heads explosion) fit in 8 KiB of header but are still refused.
  const explosion = headerWithPrevious(230);
  assert.ok(explosion.length <= DEFAULT_LIMITS.maxHeaderBytes);
  assert.throws(
    () => decodeOperation(explosion),
    (e: unknown) => isWalkawayError(e, 'TOO_LARGE'),
  );
});

test('bytes from our own store (trusted) still decode with more previous: old rows stay readable', () => {
  const b = headerWithPrevious(MAX_PREVIOUS + 5);
  const op = decodeTrustedOperation(b, Hash.digest(b).bytes);
  assert.equal(op.header.extensions?.variant === 'causal' && op.header.extensions.previous.length, MAX_PREVIOUS + 5);
});
