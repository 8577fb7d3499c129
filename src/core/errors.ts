/**
 * Every typed failure of the stack, in one place. A `WalkawayError` carries a
 * stable string `code` (part of the public interface: see DESIGN.md's
 * appendix) and the data that explains it.
 */

export const ERROR_CODES = {
  // core: decoding and validation of one operation
  MALFORMED: 'not canonical CBOR, or the wrong shape',
  UNSUPPORTED_VERSION: 'header version is not 1',
  INVALID_SIGNATURE: 'Ed25519 signature does not verify over the unsigned header',
  PAYLOAD_MISMATCH: 'body size or BLAKE3 hash differs from the header',
  TOO_LARGE: 'header, body, frame or message over its configured limit',
  // core: an operation against the previous entry of its log
  AUTHOR_MISMATCH: 'backlinked operation is by another author',
  LOG_MISMATCH: 'backlinked operation belongs to another log',
  SEQ_GAP: 'seqNum is not one higher than the previous entry',
  BACKLINK_MISMATCH: 'backlink is not the hash of the previous entry',
  FORK: 'two different operations with the same author, log and seqNum',
  UNSUPPORTED_EXTENSION: 'extensions of an unknown version or variant: neither stored nor forwarded',
  // store
  SCHEMA_VERSION: 'database was written by another schema version',
  NOT_FOUND: 'no such entry',
  // sync, broadcast, net: sessions and protocol messages
  PROTOCOL: 'a peer sent a message that the protocol does not allow here',
  TIMEOUT: 'a peer stalled longer than the configured limit',
  CLOSED: 'the session or stream was closed',
  PENDING_OVERFLOW: "a bounded pending set (or the causal orderer's table of hashes) is full",
  INVALID_ARGUMENT: 'a caller passed a value outside what the function accepts',
  LOCKED: 'the data directory is in use by another process or node',
  // auth: group membership and access control
  NOT_PERMITTED: 'the author lacks the access the action needs at its dependencies, or the action does not fit the group',
  // encryption: sealed bodies and key agreement
  DECRYPTION_FAILED: 'a sealed body or key-agreement message does not authenticate under the key it names',
  MISSING_KEY: 'a sealed body names a key or group secret that is not held here (yet)',
  KEY_EXPIRED: "a pre-key bundle is outside its lifetime at the caller's time",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class WalkawayError extends Error {
  readonly code: ErrorCode;
  readonly data: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, data: Record<string, unknown> = {}) {
    super(`${code}: ${message}`);
    this.name = 'WalkawayError';
    this.code = code;
    this.data = data;
  }
}

export function isWalkawayError(err: unknown, code?: ErrorCode): err is WalkawayError {
  return err instanceof WalkawayError && (code === undefined || err.code === code);
}

/**
 * A short, safe description of a value that came off the wire, for error
 * messages: never recurses into it (String() of a deeply nested array
 * overflows the stack) and never grows with it.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === null || value === undefined) {
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}…` : value);
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value;
}
