// Worker thread of VerifyPool (verify-pool.ts): Ed25519 verification of
// batches with node:crypto and cached public KeyObjects. Plain JavaScript so
// that it loads without a TypeScript loader.
import { createPublicKey, verify } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const MAX_CACHED_KEYS = 65536;
const keys = new Map();

function keyObject(publicKey) {
  const id = Buffer.from(publicKey).toString('base64');
  let key = keys.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    keys.set(id, key);
  }
  return key;
}

parentPort.on('message', ({ id, items }) => {
  const results = new Uint8Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const { publicKey, message, signature } = items[i];
    try {
      results[i] = verify(null, message, keyObject(publicKey), signature) ? 1 : 0;
    } catch {
      results[i] = 0;
    }
  }
  parentPort.postMessage({ id, results }, [results.buffer]);
});
