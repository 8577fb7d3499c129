import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { crypto, nobleCrypto, toHex, utf8 } from '../../src/core/index.ts';

const node = crypto();

test('the default backend on Node is node:crypto + hash-wasm', () => {
  assert.equal(node.name, 'node');
});

test('BLAKE3 matches the published test value for "hello"', () => {
  const expected = 'ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f';
  assert.equal(toHex(node.blake3(utf8('hello'))), expected);
  assert.equal(toHex(nobleCrypto.blake3(utf8('hello'))), expected);
});

test('node and noble backends give identical keys, signatures and hashes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, message) => {
      const pk = node.publicKeyOf(seed);
      assert.deepEqual(nobleCrypto.publicKeyOf(seed), pk);
      const sig = node.sign(seed, message);
      assert.deepEqual(nobleCrypto.sign(seed, message), sig);
      assert.ok(nobleCrypto.verify(pk, message, sig));
      assert.ok(node.verify(pk, message, sig));
      assert.deepEqual(nobleCrypto.blake3(message), node.blake3(message));
    }),
    { seed: 42, numRuns: 100 },
  );
});

test('both backends reject a bad signature and a bad key without throwing', () => {
  const seed = new Uint8Array(32).fill(3);
  const message = utf8('walkaway');
  const sig = node.sign(seed, message);
  const bad = new Uint8Array(sig);
  bad[0] ^= 1;
  for (const impl of [node, nobleCrypto]) {
    assert.equal(impl.verify(node.publicKeyOf(seed), message, bad), false);
    assert.equal(impl.verify(new Uint8Array(32).fill(0xff), message, sig), false);
    assert.equal(impl.verify(new Uint8Array(5), message, sig), false);
  }
});

test('hash-wasm digests are copies, not views into wasm memory', () => {
  const a = node.blake3(utf8('a'));
  const copy = new Uint8Array(a);
  node.blake3(utf8('b'));
  assert.deepEqual(a, copy);
});
