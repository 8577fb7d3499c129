/**
 * Message ratchets of the message scheme: every update secret a member gets
 * for a sender (one per epoch of that sender) seeds a hash chain, and every
 * step of the chain gives one ChaCha20-Poly1305 key and nonce for exactly
 * one message (HKDF-SHA256 from @noble/hashes, the cipher from
 * @noble/ciphers). A step's key is wiped once used, and the chain secret it
 * came from is overwritten by the next, so a state stolen later holds no key
 * of a message already read (forward secrecy within an epoch).
 *
 * Bounds (docs/encryption.md): a message may jump at most MAX_SKIP
 * generations ahead of the next expected one, and at most MAX_OUT_OF_ORDER
 * keys of skipped generations are kept for late messages (the oldest go
 * first). Anything else is MISSING_KEY, marked permanent: it will never open.
 * The chain moves only when a message authenticates, so garbage cannot push
 * it forward.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { WalkawayError } from '../../core/index.ts';
import { deriveKey } from '../kdf.ts';

/** Most generations one message may skip ahead (messages lost or still in flight). */
export const MAX_SKIP = 1000;
/** Most keys of skipped generations kept for messages arriving out of order. */
export const MAX_OUT_OF_ORDER = 100;
const KEY = 32;
const NONCE = 12;
const CHAIN = 32;
const NO_CONTEXT = new Uint8Array(0);

export interface SendChain {
  chain: Uint8Array;
  generation: number;
}

export interface ReceiveChain extends SendChain {
  /** Key ‖ nonce of skipped generations, by generation. */
  skipped: Map<number, Uint8Array>;
}

export function newSendChain(updateSecret: Uint8Array): SendChain {
  return { chain: updateSecret.slice(), generation: 0 };
}

export function newReceiveChain(updateSecret: Uint8Array): ReceiveChain {
  return { chain: updateSecret.slice(), generation: 0, skipped: new Map() };
}

/** One step: key ‖ nonce for this generation, and the next chain secret. */
function step(chain: Uint8Array): { material: Uint8Array; next: Uint8Array } {
  const out = deriveKey(chain, 'message', NO_CONTEXT, KEY + NONCE + CHAIN);
  return { material: out.subarray(0, KEY + NONCE), next: out.subarray(KEY + NONCE) };
}

function cipher(material: Uint8Array, aad: Uint8Array) {
  return chacha20poly1305(material.subarray(0, KEY), material.subarray(KEY, KEY + NONCE), aad);
}

/** Encrypts with the next key of `chain` and moves it on; returns the generation used. */
export function sealNext(chain: SendChain, plaintext: Uint8Array, aad: Uint8Array, out: Uint8Array): number {
  const { material, next } = step(chain.chain);
  cipher(material, aad).encrypt(plaintext, out);
  material.fill(0);
  chain.chain.fill(0);
  chain.chain = next.slice();
  next.fill(0);
  return chain.generation++;
}

/**
 * Decrypts the message of `generation` and moves the chain (only if it
 * authenticates). MISSING_KEY (permanent) for a generation too far ahead, or
 * one whose key is gone (used, or dropped out of the window);
 * DECRYPTION_FAILED when it does not authenticate.
 */
export function openAt(chain: ReceiveChain, generation: number, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array {
  if (generation < chain.generation) {
    const material = chain.skipped.get(generation);
    if (!material) throw gone(`generation ${generation} was read already or dropped out of the window`);
    const plaintext = tryOpen(material, ciphertext, aad);
    chain.skipped.delete(generation);
    material.fill(0);
    return plaintext;
  }
  if (generation - chain.generation > MAX_SKIP) {
    throw gone(`generation ${generation} is more than ${MAX_SKIP} ahead of ${chain.generation}`);
  }
  // Walk forward on copies; commit only once the message authenticates.
  const passed: Uint8Array[] = [];
  let secret = chain.chain;
  for (let g = chain.generation; g < generation; g++) {
    const { material, next } = step(secret);
    passed.push(material);
    secret = next;
  }
  const { material, next } = step(secret);
  let plaintext: Uint8Array;
  try {
    plaintext = tryOpen(material, ciphertext, aad);
  } finally {
    material.fill(0);
  }
  // Only the newest MAX_OUT_OF_ORDER skipped keys are worth keeping.
  const keepFrom = Math.max(0, passed.length - MAX_OUT_OF_ORDER);
  for (let i = 0; i < passed.length; i++) {
    if (i >= keepFrom) chain.skipped.set(chain.generation + i, passed[i]);
    else passed[i].fill(0);
  }
  chain.chain.fill(0);
  chain.chain = next.slice();
  chain.generation = generation + 1;
  for (const g of chain.skipped.keys()) {
    if (chain.skipped.size <= MAX_OUT_OF_ORDER) break;
    chain.skipped.get(g)!.fill(0);
    chain.skipped.delete(g);
  }
  return plaintext;
}

/** Wipes every secret a chain holds (an epoch dropped, a member removed). */
export function wipeChain(chain: SendChain | ReceiveChain): void {
  chain.chain.fill(0);
  if ('skipped' in chain) {
    for (const m of chain.skipped.values()) m.fill(0);
    chain.skipped.clear();
  }
}

function tryOpen(material: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array {
  try {
    return cipher(material, aad).decrypt(ciphertext);
  } catch {
    throw new WalkawayError('DECRYPTION_FAILED', 'message does not authenticate under its ratchet key');
  }
}

function gone(why: string): WalkawayError {
  return new WalkawayError('MISSING_KEY', `no message key: ${why}`, { permanent: true });
}
