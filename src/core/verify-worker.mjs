// Worker thread of VerifyPool (verify-pool.ts): Ed25519 verification of
// packed batches with node:crypto and cached public KeyObjects. Plain
// JavaScript so that it loads without a TypeScript loader.
// Batch layout, per item: publicKey (32) | signature (64) | length (u32 BE) | message.
import { createPublicKey, verify } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

const MAX_CACHED_KEYS = 65536;
const keys = new Map();

function keyObject(buf, offset) {
  // The whole key is the cache key: a shorter one would let one author's
  // cached key verify another's claimed signatures.
  const id = buf.toString('base64url', offset, offset + 32);
  let key = keys.get(id);
  if (!key) {
    // JWK, not DER: OpenSSL's SPKI decoder costs ~140 µs a key, this ~20 µs.
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: id }, format: 'jwk' });
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    keys.set(id, key);
  }
  return key;
}

parentPort.on('message', ({ id, count, packed }) => {
  const buf = Buffer.from(packed);
  const results = new Uint8Array(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const length = buf.readUInt32BE(offset + 96);
    const message = buf.subarray(offset + 100, offset + 100 + length);
    const signature = buf.subarray(offset + 32, offset + 96);
    try {
      results[i] = verify(null, message, keyObject(buf, offset), signature) ? 1 : 0;
    } catch {
      results[i] = 0;
    }
    offset += 100 + length;
  }
  parentPort.postMessage({ id, results }, [results.buffer]);
});
