/** Pure-JS fallback (browsers): @noble/curves Ed25519 and @noble/hashes BLAKE3. */
import { ed25519 } from '@noble/curves/ed25519.js';
import { blake3 } from '@noble/hashes/blake3.js';
import type { Crypto } from './crypto.ts';

export const nobleCrypto: Crypto = {
  name: 'noble',
  blake3: (data) => blake3(data),
  publicKeyOf: (seed) => ed25519.getPublicKey(seed),
  sign: (seed, message) => ed25519.sign(message, seed),
  verify: (publicKey, message, signature) => {
    try {
      // zip215: false gives RFC 8032 / node:crypto (OpenSSL) semantics, so that
      // both implementations accept exactly the same signatures.
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
};
