/**
 * The randomness every encryption function takes as an argument: secrets,
 * nonces, X25519 keys and HPKE ephemeral keys all come from one
 * `RandomSource`, so a test (or the simulator) can seed it and replay a run
 * byte for byte. Production uses the platform CSPRNG.
 */
import { chacha20 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8 } from '../core/index.ts';

/** Returns `length` fresh random bytes. */
export type RandomSource = (length: number) => Uint8Array;

/** The platform CSPRNG (WebCrypto `getRandomValues`, in chunks of its 64 KiB limit). */
export const systemRandom: RandomSource = (length) => {
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += 65_536) {
    globalThis.crypto.getRandomValues(out.subarray(at, Math.min(length, at + 65_536)));
  }
  return out;
};

const BLOCK = 64;

/**
 * A deterministic source for tests and simulations only: the ChaCha20
 * keystream (from @noble/ciphers) under a key hashed from the seed. Two
 * parties given the same seed draw the same nonces and secrets, which is
 * exactly what must never happen outside a test.
 */
export function seededRandom(seed: number | string): RandomSource {
  const key = sha256(utf8(`walkaway/seeded-random/v1/${seed}`));
  const nonce = new Uint8Array(12);
  let counter = 0;
  return (length) => {
    const blocks = Math.ceil(length / BLOCK);
    if (counter + blocks > 0xffff_ffff) {
      // Next stream: a new nonce keeps the keystream from ever repeating.
      for (let i = 0; i < nonce.length && ++nonce[i] === 0; i++);
      counter = 0;
    }
    const out = chacha20(key, nonce, new Uint8Array(length), undefined, counter);
    counter += blocks;
    return out;
  };
}
