/**
 * Every key the layer uses is derived with HKDF-SHA256 (RFC 5869, from
 * @noble/hashes) from one root secret, separated by purpose and context: a
 * key for topic bodies is never a key for anything else, and a key for one
 * topic is never a key for another. The label names the scheme version, so
 * a new body format derives new keys.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8 } from '../core/index.ts';

export type KeyPurpose =
  /** XChaCha20-Poly1305 key for application bodies. */
  | 'body'
  /** A public name of the root secret, carried in sealed bodies so a receiver finds the key. */
  | 'key-id'
  /** The X3DH shared secret between two members. */
  | 'x3dh'
  /** Message scheme: a member's secret drawn from a seed (the context names the member). */
  | 'dcgka-member'
  /** Message scheme: the update secret an outer ratchet step gives (seeds the member's message ratchet). */
  | 'dcgka-update'
  /** Message scheme: the next state of a member's outer ratchet. */
  | 'dcgka-chain'
  /** Message scheme: one step of a message ratchet (key, nonce and the next chain secret). */
  | 'message';

const SALT = utf8('walkaway/encryption/v1');

/** A `length`-byte key for `purpose` within `context` (a topic id, a pair of keys). */
export function deriveKey(root: Uint8Array, purpose: KeyPurpose, context: Uint8Array, length = 32): Uint8Array {
  const label = utf8(purpose);
  // The purpose is length-prefixed so that no (purpose, context) pair reads as another.
  const info = concatBytes(new Uint8Array([label.length]), label, context);
  return hkdf(sha256, root, SALT, info, length);
}
