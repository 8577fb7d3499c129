/**
 * Node backend: node:crypto Ed25519 and hash-wasm BLAKE3. Building a public
 * KeyObject from raw bytes costs almost as much as a verify, so they are
 * cached per author (bounded).
 */
import * as nodeCrypto from 'node:crypto';
import { createBLAKE3 } from 'hash-wasm';
import type { Crypto } from './crypto.ts';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const MAX_CACHED_KEYS = 65_536;

export async function createNodeCrypto(): Promise<Crypto> {
  const hasher = await createBLAKE3();
  const privateKeys = new Map<string, nodeCrypto.KeyObject>();
  const publicKeys = new Map<string, nodeCrypto.KeyObject>();

  function privateKeyObject(seed: Uint8Array): nodeCrypto.KeyObject {
    const id = Buffer.from(seed.buffer, seed.byteOffset, seed.byteLength).toString('base64');
    let key = privateKeys.get(id);
    if (!key) {
      key = nodeCrypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
      if (privateKeys.size >= MAX_CACHED_KEYS) privateKeys.clear();
      privateKeys.set(id, key);
    }
    return key;
  }

  function publicKeyObject(publicKey: Uint8Array): nodeCrypto.KeyObject {
    const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64');
    let key = publicKeys.get(id);
    if (!key) {
      key = nodeCrypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
      if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.clear();
      publicKeys.set(id, key);
    }
    return key;
  }

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
      if (publicKey.length !== 32 || signature.length !== 64) return false;
      try {
        return nodeCrypto.verify(null, message, publicKeyObject(publicKey), signature);
      } catch {
        return false;
      }
    },
  };
}
