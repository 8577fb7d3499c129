/**
 * Sealing and opening bodies under one root secret (a topic key or a group
 * secret) with XChaCha20-Poly1305 (@noble/ciphers).
 *
 * Nonces are 24 random bytes drawn for every body. They do not repeat in
 * practice: for n bodies under one key the chance of any collision is about
 * n² / 2^193, below 2^-100 even at 2^46 bodies, and no counter state has to
 * survive a crash or be shared between an author's devices (a counter could
 * be reset by a restored backup; a random nonce cannot). The key itself is
 * per topic and per root secret, so nonces of different topics never meet.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { WalkawayError, toHex } from '../core/index.ts';
import { associatedData, KEY_ID_LENGTH, NONCE_LENGTH, sealedHeader, TAG_LENGTH, type Envelope, type SealedKind } from './envelope.ts';
import { deriveKey } from './kdf.ts';
import type { RandomSource } from './random.ts';

export const SECRET_LENGTH = 32;

export class BodyKey {
  readonly kind: SealedKind;
  /** Public name of the root secret (HKDF of it, so it says nothing about the secret). */
  readonly keyId: Uint8Array;
  private readonly key: Uint8Array;
  private readonly topic: Uint8Array;
  /** The sealed-body header (version, kind, key id): the same for every body under this key. */
  private readonly header: Uint8Array;

  constructor(kind: SealedKind, root: Uint8Array, topic: Uint8Array) {
    if (root.length !== SECRET_LENGTH) {
      throw new WalkawayError('INVALID_ARGUMENT', `a root secret is ${SECRET_LENGTH} bytes, got ${root.length}`);
    }
    this.kind = kind;
    this.topic = topic.slice();
    this.keyId = keyIdOf(root, topic);
    this.key = deriveKey(root, 'body', topic);
    this.header = sealedHeader(kind, this.keyId);
  }

  get keyIdHex(): string {
    return toHex(this.keyId);
  }

  /** A sealed body for `author`'s operation on this topic. */
  seal(plaintext: Uint8Array, author: Uint8Array, random: RandomSource): Uint8Array {
    const nonce = random(NONCE_LENGTH);
    if (nonce.length !== NONCE_LENGTH) throw new WalkawayError('INVALID_ARGUMENT', `the random source gave ${nonce.length} bytes for a nonce`);
    const aad = associatedData(this.header, this.topic, author);
    // Header, nonce and ciphertext in one buffer: the cipher writes straight into it (one copy less per body).
    const prefix = this.header.length + NONCE_LENGTH;
    const body = new Uint8Array(prefix + plaintext.length + TAG_LENGTH);
    body.set(this.header, 0);
    body.set(nonce, this.header.length);
    xchacha20poly1305(this.key, nonce, aad).encrypt(plaintext, body.subarray(prefix));
    return body;
  }

  /** The plaintext of a sealed body; DECRYPTION_FAILED if anything (body, author, topic, key) differs. */
  open(envelope: Extract<Envelope, { keyId: Uint8Array }>, author: Uint8Array): Uint8Array {
    const aad = associatedData(envelope.header, this.topic, author);
    try {
      return xchacha20poly1305(this.key, envelope.nonce, aad).decrypt(envelope.ciphertext);
    } catch {
      throw new WalkawayError('DECRYPTION_FAILED', `body under key ${this.keyIdHex} does not authenticate for this topic and author`, {
        keyId: this.keyIdHex,
      });
    }
  }
}

export function keyIdOf(root: Uint8Array, topic: Uint8Array): Uint8Array {
  return deriveKey(root, 'key-id', topic, KEY_ID_LENGTH);
}
