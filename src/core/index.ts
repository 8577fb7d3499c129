/**
 * core: signed, hashed operations in per-author append-only logs, byte-
 * compatible with p2panda-core 0.7 headers (CBOR, BLAKE3, Ed25519). Every
 * byte that comes in is decoded strictly and validated before anything
 * trusts it. See DESIGN.md (core).
 */
export { ERROR_CODES, WalkawayError, isWalkawayError, describeValue, type ErrorCode } from './errors.ts';
export { decodeStrictCbor, type CborLimits } from './cbor.ts';
export { toHex, fromHex, bytesEqual, compareBytes, concatBytes, utf8 } from './bytes.ts';
export { crypto, setCrypto, type Crypto } from './crypto.ts';
export { nobleCrypto } from './crypto-noble.ts';
export { Hash, HASH_LENGTH } from './hash.ts';
export { PrivateKey, PublicKey, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from './keys.ts';
export { DEFAULT_LIMITS, MAX_PREVIOUS, type Limits } from './limits.ts';
export {
  DEFAULT_LOG_ID,
  nowMicros,
  type Extensions,
  type BasicExtensions,
  type CausalExtensions,
  type UnknownExtensions,
} from './extensions.ts';
export { encodeHeader, decodeHeader, unsignedBytesOf, withSignature, HEADER_VERSION, type Header } from './header.ts';
export {
  createOperation,
  decodeOperation,
  decodeOperationUnverified,
  decodeTrustedOperation,
  signatureValid,
  validateBacklink,
  logIdOf,
  pruneFlagOf,
  previousOf,
  timestampOf,
  type Operation,
  type CreateOperationArgs,
} from './operation.ts';
export { topicId, networkId, logIdForTopic, DEFAULT_NETWORK_ID } from './topic.ts';
export { VerifyPool } from './verify-pool.ts';
export { realRuntime, every, type Runtime, type TimerHandle } from './runtime.ts';
