/**
 * Operations: a signed header and an optional body. The operation id is the
 * BLAKE3 hash of the signed header bytes; the body is covered only through
 * `payloadHash`, so bodies can be deleted while headers stay verifiable.
 */
import { bytesEqual } from './bytes.ts';
import { WalkawayError } from './errors.ts';
import { DEFAULT_LOG_ID, sortPrevious, type Extensions } from './extensions.ts';
import { Hash } from './hash.ts';
import { decodeHeader, encodeHeader, HEADER_VERSION, unsignedBytesOf, withSignature, type Header, type UnsignedHeader } from './header.ts';
import type { PrivateKey } from './keys.ts';
import { DEFAULT_LIMITS, MAX_PREVIOUS, type Limits } from './limits.ts';
import { SIGNATURE_LENGTH } from './keys.ts';

export interface Operation {
  hash: Hash;
  header: Header;
  headerBytes: Uint8Array;
  body?: Uint8Array;
}

export interface CreateOperationArgs {
  privateKey: PrivateKey;
  body?: Uint8Array;
  seqNum: number;
  backlink?: Hash;
  extensions?: Extensions;
  /** What receivers enforce; an operation they would refuse is not made. */
  limits?: Limits;
}

/**
 * Signs a new operation. Refuses, before signing, anything a receiver would
 * refuse: a body over `maxBodyBytes`, more than MAX_PREVIOUS hashes in
 * `previous` (INVALID_ARGUMENT), a signed header over `maxHeaderBytes` (TOO_LARGE).
 */
export function createOperation(args: CreateOperationArgs): Operation {
  const { privateKey, seqNum, backlink } = args;
  const body = args.body && args.body.length > 0 ? args.body : undefined;
  if (!Number.isSafeInteger(seqNum) || seqNum < 0 || seqNum > 0xffff_ffff) {
    throw new WalkawayError('INVALID_ARGUMENT', `seqNum must be an unsigned 32-bit integer, got ${seqNum}`);
  }
  if (seqNum > 0 !== (backlink !== undefined)) {
    throw new WalkawayError('INVALID_ARGUMENT', 'a backlink is required exactly when seqNum > 0', { seqNum });
  }
  const limits = args.limits ?? DEFAULT_LIMITS;
  if (body && body.length > limits.maxBodyBytes) {
    throw new WalkawayError('TOO_LARGE', `body is ${body.length} bytes, limit ${limits.maxBodyBytes}`, {
      size: body.length,
      limit: limits.maxBodyBytes,
    });
  }
  let extensions = args.extensions;
  if (extensions?.variant === 'causal') {
    extensions = { ...extensions, previous: sortPrevious(extensions.previous) };
    if (extensions.previous.length > MAX_PREVIOUS) {
      throw new WalkawayError('INVALID_ARGUMENT', `previous names ${extensions.previous.length} operations, limit ${MAX_PREVIOUS}`, {
        size: extensions.previous.length,
        limit: MAX_PREVIOUS,
      });
    }
  }
  const unsigned: UnsignedHeader = {
    version: HEADER_VERSION,
    publicKey: privateKey.publicKey,
    payloadSize: body?.length ?? 0,
    payloadHash: body && Hash.digest(body),
    seqNum,
    backlink,
    extensions,
  };
  const unsignedBytes = encodeHeader(unsigned);
  // The signed header is the unsigned one plus the signature field (2 + 64 bytes).
  const signedLength = unsignedBytes.length + 2 + SIGNATURE_LENGTH;
  if (signedLength > limits.maxHeaderBytes) {
    throw new WalkawayError('TOO_LARGE', `header would be ${signedLength} bytes, limit ${limits.maxHeaderBytes}`, {
      size: signedLength,
      limit: limits.maxHeaderBytes,
    });
  }
  const signature = privateKey.sign(unsignedBytes);
  const headerBytes = withSignature(unsignedBytes, signature);
  return { hash: Hash.digest(headerBytes), header: { ...unsigned, signature }, headerBytes, body };
}

/** Whether the operation's Ed25519 signature covers its header (its hash covers the signature). */
export function signatureValid(op: Operation): boolean {
  return op.header.publicKey.verify(unsignedBytesOf(op.headerBytes), op.header.signature);
}

/**
 * Decodes one operation and validates it on its own: canonical shape,
 * version, limits, payload size and hash against the body (if given), and
 * the signature. Throws a WalkawayError otherwise.
 */
export function decodeOperation(headerBytes: Uint8Array, body?: Uint8Array, limits: Limits = DEFAULT_LIMITS): Operation {
  const op = decodeOperationUnverified(headerBytes, body, limits);
  if (!signatureValid(op)) {
    throw new WalkawayError('INVALID_SIGNATURE', `signature of ${op.hash.toHex()} does not verify`, {
      hash: op.hash.toHex(),
      author: op.header.publicKey.toHex(),
    });
  }
  return op;
}

/**
 * Everything `decodeOperation` checks except the signature: for bytes that
 * were verified before (read back from our own store, or verified by a
 * worker thread).
 */
export function decodeOperationUnverified(headerBytes: Uint8Array, body?: Uint8Array, limits: Limits = DEFAULT_LIMITS): Operation {
  if (!(headerBytes instanceof Uint8Array)) throw new WalkawayError('MALFORMED', 'header bytes must be a Uint8Array');
  if (body !== undefined && !(body instanceof Uint8Array)) throw new WalkawayError('MALFORMED', 'body must be a Uint8Array');
  if (headerBytes.length > limits.maxHeaderBytes) {
    throw new WalkawayError('TOO_LARGE', `header is ${headerBytes.length} bytes, limit ${limits.maxHeaderBytes}`, {
      size: headerBytes.length,
      limit: limits.maxHeaderBytes,
    });
  }
  if (body && body.length > limits.maxBodyBytes) {
    throw new WalkawayError('TOO_LARGE', `body is ${body.length} bytes, limit ${limits.maxBodyBytes}`, {
      size: body.length,
      limit: limits.maxBodyBytes,
    });
  }
  const header = decodeHeader(headerBytes);
  const hash = Hash.digest(headerBytes);
  // As p2panda-core 0.7: a body that is given is checked, even an empty one
  // (size 0 has no payload hash, so an explicit empty body is PAYLOAD_MISMATCH).
  if (body !== undefined) checkPayload(header, body, hash);
  return { hash, header, headerBytes, body };
}

/**
 * An operation from bytes this process checked before (its own store, its
 * own worker): shape only, no canonical check, no hashing, no signature.
 */
export function decodeTrustedOperation(headerBytes: Uint8Array, hash: Uint8Array, body?: Uint8Array): Operation {
  return {
    hash: Hash.fromBytes(hash),
    header: decodeHeader(headerBytes, { trusted: true }),
    headerBytes,
    body: body && body.length > 0 ? body : undefined,
  };
}

function checkPayload(header: Header, body: Uint8Array, hash: Hash): void {
  if (body.length !== header.payloadSize || !header.payloadHash || !Hash.digest(body).equals(header.payloadHash)) {
    throw new WalkawayError('PAYLOAD_MISMATCH', `body of ${hash.toHex()} does not match its header`, {
      hash: hash.toHex(),
      bodySize: body.length,
      payloadSize: header.payloadSize,
    });
  }
}

export function logIdOf(header: Header): Uint8Array {
  const ext = header.extensions;
  return ext && ext.variant !== 'unknown' ? ext.logId : DEFAULT_LOG_ID;
}

export function pruneFlagOf(header: Header): boolean {
  return header.extensions?.variant === 'basic' && header.extensions.pruneFlag && header.seqNum > 0;
}

export function previousOf(header: Header): Hash[] {
  return header.extensions?.variant === 'causal' ? header.extensions.previous : [];
}

export function timestampOf(header: Header): number | undefined {
  const ext = header.extensions;
  return ext && ext.variant !== 'unknown' ? ext.timestamp : undefined;
}

/**
 * Checks `next` against the previous entry of its log: same author and log,
 * seqNum one higher, backlink = hash of the previous. Prune-aware: a `next`
 * with the prune flag needs no previous entry (pass `undefined`).
 */
export function validateBacklink(previous: Operation | undefined, next: Operation): void {
  const h = next.header;
  if (!previous) {
    if (h.seqNum === 0 || pruneFlagOf(h)) return;
    throw new WalkawayError('SEQ_GAP', `operation at seqNum ${h.seqNum} has no previous entry`, {
      hash: next.hash.toHex(),
      expected: 0,
      seqNum: h.seqNum,
    });
  }
  const p = previous.header;
  const data = { hash: next.hash.toHex(), previous: previous.hash.toHex() };
  if (!p.publicKey.equals(h.publicKey)) {
    throw new WalkawayError('AUTHOR_MISMATCH', 'backlinked operation is by another author', data);
  }
  if (!bytesEqual(logIdOf(p), logIdOf(h))) {
    throw new WalkawayError('LOG_MISMATCH', 'backlinked operation belongs to another log', data);
  }
  if (h.seqNum !== p.seqNum + 1) {
    throw new WalkawayError('SEQ_GAP', `seqNum ${h.seqNum} after ${p.seqNum}, expected ${p.seqNum + 1}`, {
      ...data,
      expected: p.seqNum + 1,
      seqNum: h.seqNum,
    });
  }
  if (!h.backlink?.equals(previous.hash)) {
    throw new WalkawayError('BACKLINK_MISMATCH', `backlink is not the hash of seqNum ${p.seqNum}`, data);
  }
}
