/** Pure-JS fallback (browsers): @noble/curves Ed25519 and @noble/hashes BLAKE3. */
import { ed25519 } from '@noble/curves/ed25519.js';
import { blake3 } from '@noble/hashes/blake3.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from './bytes.ts';
import type { Crypto } from './crypto.ts';
import { isStrictPublicKey, isStrictSignature } from './ed25519-strict.ts';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

/**
 * The cofactorless check of RFC 8032 / OpenSSL / ed25519-dalek: R' = [S]B -
 * [k]A must encode to the R bytes. noble's own `verify` uses the cofactored
 * equation, which accepts some mixed-order signatures that node:crypto and
 * p2panda reject; the point arithmetic is noble's, only the equation is chosen here.
 */
function verifyCofactorless(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const A = ed25519.Point.fromBytes(publicKey, false);
  const rBytes = signature.subarray(0, 32);
  const s = littleEndian(signature.subarray(32, 64));
  const k = littleEndian(sha512(concatBytes(rBytes, publicKey, message))) % L;
  const expected = ed25519.Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k)).toBytes();
  for (let i = 0; i < 32; i++) if (expected[i] !== rBytes[i]) return false;
  return true;
}

export const nobleCrypto: Crypto = {
  name: 'noble',
  blake3: (data) => blake3(data),
  publicKeyOf: (seed) => ed25519.getPublicKey(seed),
  sign: (seed, message) => ed25519.sign(message, seed),
  verify: (publicKey, message, signature) => {
    // verify_strict's encoding rules first (S < L; canonical A and R, neither of small order).
    if (!isStrictPublicKey(publicKey) || !isStrictSignature(signature)) return false;
    try {
      return verifyCofactorless(publicKey, message, signature);
    } catch {
      return false;
    }
  },
};
