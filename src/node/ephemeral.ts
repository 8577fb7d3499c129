/**
 * Ephemeral messages: live only, never stored. Signed CBOR
 * `[version, publicKey, signature, timestamp, lamport, body]`; the signature
 * covers `[version, publicKey, timestamp, lamport, body]` (DESIGN.md, net).
 */
import { encode } from 'cborg';
import { decodeStrictCbor, describeValue, PublicKey, WalkawayError, type CborLimits, type PrivateKey } from '../core/index.ts';

export interface EphemeralMessage {
  author: PublicKey;
  timestamp: number;
  lamport: number;
  body: Uint8Array;
}

const VERSION = 1;
const MAX_BYTES = 16 * 1024;

/** `[version, publicKey, signature, timestamp, lamport, body]`: 7 items, flat. */
export const EPHEMERAL_CBOR_LIMITS: CborLimits = { maxItems: 7, maxDepth: 1, maxBytes: MAX_BYTES };

export function signEphemeral(key: PrivateKey, body: Uint8Array, timestamp: number, lamport: number): Uint8Array {
  const signature = key.sign(encode([VERSION, key.publicKey.bytes, timestamp, lamport, body]));
  return encode([VERSION, key.publicKey.bytes, signature, timestamp, lamport, body]);
}

export function verifyEphemeral(bytes: Uint8Array): EphemeralMessage {
  if (bytes.length > MAX_BYTES) throw new WalkawayError('TOO_LARGE', `ephemeral message of ${bytes.length} bytes`);
  const value = decodeStrictCbor(bytes, 'ephemeral message', EPHEMERAL_CBOR_LIMITS);
  if (!Array.isArray(value) || value.length !== 6) throw new WalkawayError('MALFORMED', 'ephemeral message must be a 6-item array');
  const [version, pk, signature, timestamp, lamport, body] = value;
  if (version !== VERSION) throw new WalkawayError('UNSUPPORTED_VERSION', `ephemeral version ${describeValue(version)}`);
  if (!(pk instanceof Uint8Array) || !(signature instanceof Uint8Array) || !(body instanceof Uint8Array)) {
    throw new WalkawayError('MALFORMED', 'ephemeral key, signature and body must be bytes');
  }
  if (!Number.isSafeInteger(timestamp) || !Number.isSafeInteger(lamport)) throw new WalkawayError('MALFORMED', 'ephemeral timestamp and lamport must be integers');
  const author = PublicKey.fromBytes(pk);
  if (!author.verify(encode([VERSION, pk, timestamp, lamport, body]), signature)) {
    throw new WalkawayError('INVALID_SIGNATURE', 'ephemeral message signature does not verify');
  }
  return { author, timestamp, lamport, body };
}
