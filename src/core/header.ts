/**
 * The operation header, byte-compatible with p2panda-core 0.7: a definite-length
 * CBOR array `[version, publicKey, signature?, payloadSize, payloadHash?,
 * seqNum, backlink?, extensions?]` with optional fields omitted, not null.
 * Decoding accepts only the exact canonical bytes: anything that would
 * re-encode differently is MALFORMED.
 */
import { encode as cborEncode } from 'cborg';
import { decodeStrictCbor } from './cbor.ts';
import { decodeHeaderFast } from './header-fast.ts';
import { bytesEqual } from './bytes.ts';
import { WalkawayError } from './errors.ts';
import { extensionsFromCbor, extensionsToCbor, isUint, type Extensions } from './extensions.ts';
import { Hash, HASH_LENGTH } from './hash.ts';
import { PublicKey, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from './keys.ts';

export const HEADER_VERSION = 1;

/**
 * A header is at most 8 fields plus extensions: 5 known fields and
 * MAX_PREVIOUS hashes, ~50 items at depth 3. Unknown extension variants may
 * carry more (forward compatibility), up to this budget; its byte size is
 * `Limits.maxHeaderBytes`, checked by the callers.
 */
export const HEADER_CBOR_LIMITS = { maxItems: 512, maxDepth: 8 };
const U32_MAX = 0xffff_ffff;

export interface Header {
  version: number;
  publicKey: PublicKey;
  signature: Uint8Array;
  payloadSize: number;
  payloadHash?: Hash;
  seqNum: number;
  backlink?: Hash;
  extensions?: Extensions;
}

export type UnsignedHeader = Omit<Header, 'signature' | 'extensions'> & { extensions?: Extensions };

function headerArray(header: UnsignedHeader, signature?: Uint8Array): unknown[] {
  const items: unknown[] = [header.version, header.publicKey.bytes];
  if (signature) items.push(signature);
  items.push(header.payloadSize);
  if (header.payloadSize > 0) items.push(header.payloadHash!.bytes);
  items.push(header.seqNum);
  if (header.seqNum > 0) items.push(header.backlink!.bytes);
  if (header.extensions) items.push(extensionsToCbor(header.extensions));
  return items;
}

export function encodeHeader(header: UnsignedHeader, signature?: Uint8Array): Uint8Array {
  const out = cborEncode(headerArray(header, signature));
  // cborg hands out a Buffer on Node: keep one byte type everywhere.
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** The signed header bytes: the unsigned bytes with the signature put in (the inverse of `unsignedBytesOf`). */
export function withSignature(unsignedBytes: Uint8Array, signature: Uint8Array): Uint8Array {
  const sigStart = 1 + 1 + 2 + PUBLIC_KEY_LENGTH;
  const out = new Uint8Array(unsignedBytes.length + 2 + SIGNATURE_LENGTH);
  out[0] = unsignedBytes[0] + 1;
  out.set(unsignedBytes.subarray(1, sigStart), 1);
  out[sigStart] = 0x58;
  out[sigStart + 1] = SIGNATURE_LENGTH;
  out.set(signature, sigStart + 2);
  out.set(unsignedBytes.subarray(sigStart), sigStart + 2 + SIGNATURE_LENGTH);
  return out;
}

/**
 * The bytes that were signed: the header array without its signature. For a
 * canonical header this is a cut of the signed bytes (the array head is one
 * byte, since a header has at most 8 fields), so nothing is re-encoded.
 */
export function unsignedBytesOf(headerBytes: Uint8Array): Uint8Array {
  const head = headerBytes[0];
  // [array head][0x01 version][0x58 0x20 + 32 key][0x58 0x40 + 64 signature]...
  const sigStart = 1 + 1 + 2 + PUBLIC_KEY_LENGTH;
  const sigEnd = sigStart + 2 + SIGNATURE_LENGTH;
  const out = new Uint8Array(headerBytes.length - (sigEnd - sigStart));
  out[0] = head - 1;
  out.set(headerBytes.subarray(1, sigStart), 1);
  out.set(headerBytes.subarray(sigEnd), sigStart);
  return out;
}

/**
 * Decodes and checks the shape of a signed header (not the signature).
 * `trusted` skips the canonical re-encoding check, for bytes read back from
 * our own store (checked when they came in).
 */
export function decodeHeader(headerBytes: Uint8Array, options?: { trusted?: boolean }): Header {
  if (!(headerBytes instanceof Uint8Array)) malformed('header bytes must be a Uint8Array');
  // The common shape, read by hand and checked for canonical form as it is read.
  return decodeHeaderFast(headerBytes) ?? decodeHeaderGeneric(headerBytes, options);
}

/**
 * The reference decoder: cborg strict decode, field checks, and the
 * canonical check by re-encoding. It decides everything the fast path
 * declines (errors included) and is what the fast path is tested against.
 */
export function decodeHeaderGeneric(headerBytes: Uint8Array, options: { trusted?: boolean } = {}): Header {
  if (!(headerBytes instanceof Uint8Array)) malformed('header bytes must be a Uint8Array');
  const value = decodeStrictCbor(headerBytes, 'header', HEADER_CBOR_LIMITS);
  if (!Array.isArray(value)) malformed('header must be a CBOR array');
  if (value.length === 0 || !isUint(value[0])) malformed('header must start with an unsigned version');
  if (value[0] !== HEADER_VERSION) {
    throw new WalkawayError('UNSUPPORTED_VERSION', `header version ${value[0]}, expected ${HEADER_VERSION}`, {
      version: value[0],
    });
  }
  const header = readFields(value, options.trusted === true);
  // Canonical means: exactly the bytes our encoder writes for this value.
  if (!options.trusted && !bytesEqual(cborEncode(value), headerBytes)) malformed('header is not canonical CBOR');
  return header;
}

function readFields(items: unknown[], trusted: boolean): Header {
  let i = 1;
  const next = (): unknown => (i < items.length ? items[i++] : malformed(`header ends after ${items.length} fields`));
  const publicKey = bytesField(next(), PUBLIC_KEY_LENGTH, 'publicKey');
  const signature = bytesField(next(), SIGNATURE_LENGTH, 'signature');
  const payloadSize = u32Field(next(), 'payloadSize');
  const payloadHash = payloadSize > 0 ? bytesField(next(), HASH_LENGTH, 'payloadHash') : undefined;
  const seqNum = u32Field(next(), 'seqNum');
  const backlink = seqNum > 0 ? bytesField(next(), HASH_LENGTH, 'backlink') : undefined;
  const extensions = i < items.length ? extensionsFromCbor(items[i++], trusted) : undefined;
  if (i !== items.length) malformed(`header has ${items.length - i} unexpected trailing fields`);
  return {
    version: HEADER_VERSION,
    publicKey: PublicKey.fromBytes(publicKey),
    signature,
    payloadSize,
    payloadHash: payloadHash && Hash.fromBytes(payloadHash),
    seqNum,
    backlink: backlink && Hash.fromBytes(backlink),
    extensions,
  };
}

function bytesField(value: unknown, length: number, name: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    malformed(`${name} must be a ${length}-byte string`);
  }
  return value;
}

function u32Field(value: unknown, name: string): number {
  if (!isUint(value) || value > U32_MAX) malformed(`${name} must be an unsigned 32-bit integer`);
  return value;
}

function malformed(message: string): never {
  throw new WalkawayError('MALFORMED', message);
}
