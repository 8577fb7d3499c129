/**
 * Sealing of multicast datagrams (wire format v2). Everything a datagram says
 * is encrypted and authenticated with XChaCha20-Poly1305 under a key that only
 * those who know the network id and the topic can derive; what travels in
 * clear is a version byte, an opaque per-topic tag (so a receiver finds the
 * key without trying them all) and the random nonce:
 *
 *   [version=2][tag: 16][nonce: 24][ciphertext of (kind byte || payload) + 16-byte Poly1305 tag]
 *
 * with `version || tag` as associated data. Keys and tags are HKDF-SHA256
 * (ikm = topic id, salt = network id) with one info string per purpose.
 * The tag is stable per (network, topic): a listener who cannot guess the
 * topic cannot read or invert it, but can link datagrams of the same topic.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8, WalkawayError } from '../../core/index.ts';

export const MULTICAST_VERSION = 2;
export const TOPIC_TAG_BYTES = 16;
export const NONCE_BYTES = 24;
const AEAD_TAG_BYTES = 16;
/** Version, topic tag, nonce and Poly1305 tag: what sealing adds to the plaintext. */
export const SEAL_OVERHEAD = 1 + TOPIC_TAG_BYTES + NONCE_BYTES + AEAD_TAG_BYTES;

const INFO_KEY = utf8('walkaway/multicast/v2/aead-key');
const INFO_TAG = utf8('walkaway/multicast/v2/topic-tag');

export interface TopicKeys {
  topic: Uint8Array;
  key: Uint8Array;
  tag: Uint8Array;
}

export function deriveTopicKeys(networkId: Uint8Array, topic: Uint8Array): TopicKeys {
  return {
    topic,
    key: hkdf(sha256, topic, networkId, INFO_KEY, 32),
    tag: hkdf(sha256, topic, networkId, INFO_TAG, TOPIC_TAG_BYTES),
  };
}

/** The topic tag of a datagram, or undefined when it is not a v2 datagram. */
export function topicTagOf(datagram: Uint8Array): Uint8Array | undefined {
  if (datagram.length < SEAL_OVERHEAD + 1 || datagram[0] !== MULTICAST_VERSION) return undefined;
  return datagram.subarray(1, 1 + TOPIC_TAG_BYTES);
}

export function seal(keys: TopicKeys, kind: number, payload: Uint8Array, nonce: Uint8Array): Uint8Array {
  if (nonce.length !== NONCE_BYTES) throw new WalkawayError('INVALID_ARGUMENT', `a nonce is ${NONCE_BYTES} bytes`);
  const head = concatBytes(new Uint8Array([MULTICAST_VERSION]), keys.tag);
  const sealed = xchacha20poly1305(keys.key, nonce, head).encrypt(concatBytes(new Uint8Array([kind]), payload));
  return concatBytes(head, nonce, sealed);
}

/**
 * Opens a datagram whose tag matched `keys`: `{ kind, payload }`, or a
 * PROTOCOL error (reason 'authentication') when it was not sealed with this
 * key or was altered. Never throws for bad input.
 */
export function open(keys: TopicKeys, datagram: Uint8Array): { kind: number; payload: Uint8Array } | WalkawayError {
  const headEnd = 1 + TOPIC_TAG_BYTES;
  const head = datagram.subarray(0, headEnd);
  const nonce = datagram.subarray(headEnd, headEnd + NONCE_BYTES);
  try {
    const plain = xchacha20poly1305(keys.key, nonce, head).decrypt(datagram.subarray(headEnd + NONCE_BYTES));
    if (plain.length < 1) throw new Error('empty');
    return { kind: plain[0], payload: plain.subarray(1) };
  } catch {
    return new WalkawayError('PROTOCOL', 'multicast datagram fails authentication', { reason: 'authentication' });
  }
}
