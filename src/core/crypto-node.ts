/**
 * Node backend: node:crypto Ed25519 and hash-wasm BLAKE3. Building a public
 * KeyObject from raw bytes costs almost as much as a verify, so they are
 * cached per author (bounded). Public keys are imported as JWK: OpenSSL's
 * DER (SPKI) decoder costs about 140 µs a key, the JWK import about 20 µs,
 * which is what a new author costs (the 100k-author ingest, bench/ratios.ts).
 */
import * as nodeCrypto from 'node:crypto';
// hash-wasm's BLAKE3 alone: the package's main file carries every algorithm
// it has (280 KB of source, about 2 MB of RSS kept for the process's life).
import blake3Module from 'hash-wasm/dist/blake3.umd.min.js';
import type { Crypto } from './crypto.ts';
import { isStrictPublicKey, isStrictSignature } from './ed25519-strict.ts';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const MAX_CACHED_KEYS = 65_536;

const { createBLAKE3 } = blake3Module;

export async function createNodeCrypto(): Promise<Crypto> {
  const hasher = await createBLAKE3();
  const privateKeys = new Map<string, nodeCrypto.KeyObject>();
  const publicKeys = new Map<string, nodeCrypto.KeyObject>();

  /** KeyObjects cached by the whole key (a shorter id would mix up authors). */
  function cached(cache: Map<string, nodeCrypto.KeyObject>, raw: Uint8Array, make: (raw: Buffer, id: string) => nodeCrypto.KeyObject) {
    const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const id = bytes.toString('base64url');
    let key = cache.get(id);
    if (!key) {
      key = make(bytes, id);
      if (cache.size >= MAX_CACHED_KEYS) cache.clear();
      cache.set(id, key);
    }
    return key;
  }

  const privateKeyObject = (seed: Uint8Array) =>
    cached(privateKeys, seed, (raw) => nodeCrypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' }));
  const publicKeyObject = (publicKey: Uint8Array) =>
    cached(publicKeys, publicKey, (_raw, x) => nodeCrypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }));

  return {
    name: 'node',
    blake3(data) {
      hasher.init();
      hasher.update(data);
      // hash-wasm hands out a view into wasm memory: copy it.
      return new Uint8Array(hasher.digest('binary'));
    },
    publicKeyOf(seed) {
      const jwk = nodeCrypto.createPublicKey(privateKeyObject(seed)).export({ format: 'jwk' });
      return new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
    },
    sign(seed, message) {
      return new Uint8Array(nodeCrypto.sign(null, message, privateKeyObject(seed)));
    },
    verify(publicKey, message, signature) {
      // verify_strict's encoding rules (OpenSSL alone accepts a small-order
      // key, or R): a handful of byte compares, against ~50 µs of verify.
      if (!isStrictPublicKey(publicKey) || !isStrictSignature(signature)) return false;
      try {
        return nodeCrypto.verify(null, message, publicKeyObject(publicKey), signature);
      } catch {
        return false;
      }
    },
  };
}
